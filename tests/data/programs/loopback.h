/* Shared by the TLS test programs: a TCP connection to 127.0.0.1:PORT, or -1 (after perror). */
#ifndef DISTILL_TEST_LOOPBACK_H
#define DISTILL_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int connect_loopback(const char* port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)atoi(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (const struct sockaddr*)&address, sizeof address) != 0) {
        perror("connect");
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

#endif
