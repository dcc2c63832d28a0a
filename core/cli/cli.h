/* cli.h — shared pieces of the replyd command-line front end. */
#ifndef RP_CLI_H
#define RP_CLI_H

#define RP_EXIT_OK 0
#define RP_EXIT_PARTIAL 1 /* some messages could not be read */
#define RP_EXIT_USAGE 2   /* usage or configuration error */

#ifndef RP_VERSION
#define RP_VERSION "0.1.0"
#endif

/* argv[0] is the command name. Returns an exit status. */
int rp_cmd_classify(int argc, char **argv);
int rp_cmd_process(int argc, char **argv);
int rp_cmd_check(int argc, char **argv);

#endif
