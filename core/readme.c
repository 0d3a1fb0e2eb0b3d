/* placeholder: being written */
typedef int execfs_placeholder_t;
