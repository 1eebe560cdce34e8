/* control.c -- placeholder until the control socket lands. */
#include "control.h"

rs_control *control_open(rs_server *srv, const char *state_dir)
{
    (void)srv; (void)state_dir;
    static int placeholder;
    return (rs_control *)(void *)&placeholder;
}
void control_close(rs_control *c) { (void)c; }
