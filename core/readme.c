/*
 * readme.c - the text of MOUNTPOINT/README: what can be written where.
 */
#include "plane.h"

static const char readme[] =
"execfs - a control plane for workflow executions, as files\n"
"\n"
"Directories (one per kind; each resource is a directory named by slug):\n"
"  workflows/            Workflow          (creates <name>-default instance)\n"
"  workflowinstances/    WorkflowInstance  spec.workflowId, spec.envRefs\n"
"  workflowexecutions/   WorkflowExecution spec.workflowId or\n"
"                                          spec.workflowInstanceId\n"
"  executioncontexts/    ExecutionContext  create-only, operator-managed\n"
"  environments/         Environment       spec.data\n"
"  by-id/<id>            symlink to the resource with that id\n"
"  errors                your most recent rejected changes, newest last\n"
"  audit                 who changed, refused, ran, cancelled what (JSON)\n"
"\n"
"Create: write a YAML document into a kind directory, or mkdir a name and\n"
"write its spec.yaml:\n"
"  cat > environments/prod.yaml <<'EOF'\n"
"  spec:\n"
"    data:\n"
"      REGION: {value: eu-west-1}\n"
"      API_KEY: {value: s3cret, isSecret: true}\n"
"  EOF\n"
"  ls environments/prod/     # spec.yaml resource.yaml resource.json\n"
"                            # status.yaml id\n"
"\n"
"Update: edit <kind>/<slug>/spec.yaml with any editor, sed -i, cp or tee.\n"
"Secret values read back as \"***\"; writing \"***\" keeps the stored value.\n"
"Delete: rmdir <kind>/<slug>  (or rm -r).\n"
"\n"
"A rejected change leaves everything as it was: close() (or fsync,\n"
"rename) fails with an errno and one line explaining it goes to errors:\n"
"  EBADMSG invalid document   ENOENT  missing reference\n"
"  EEXIST  create-only exists EPERM   immutable resource or field\n"
"  EBUSY   delete refused      ENOSPC/EFBIG  store full / too large\n"
"\n"
"apiVersion (agentic.stigmer.ai/v1) and kind may be omitted; metadata.name\n"
"defaults to the file or directory name.  Field names may be lowerCamel\n"
"or snake_case; enums by full name, short name or number.\n";

const char *plane_readme(void)
{
	return readme;
}
