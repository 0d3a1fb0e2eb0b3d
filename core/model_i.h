/*
 * model_i.h - private to the model module: the spec and status messages
 * defined in model_msgs.c and referenced by the kind table in model.c.
 */
#ifndef EXECFS_MODEL_I_H
#define EXECFS_MODEL_I_H

#include "schema.h"

extern const struct schema_msg model_workflow_spec;
extern const struct schema_msg model_workflow_instance_spec;
extern const struct schema_msg model_workflow_execution_spec;
extern const struct schema_msg model_execution_context_spec;
extern const struct schema_msg model_environment_spec;

extern const struct schema_msg model_workflow_status;
extern const struct schema_msg model_workflow_execution_status;
extern const struct schema_msg model_audit_status;

#endif
