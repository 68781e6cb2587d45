/* Run inside the base and static images by the system tests. */
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    const struct passwd* me = getpwuid(getuid());
    printf("hello from uid %u (%s)\n", (unsigned)getuid(), me != NULL ? me->pw_name : "?");
    return 0;
}
