/* Run inside the images by the TLS system tests: connects to 127.0.0.1:PORT with OpenSSL's
 * built-in trust settings, as most OpenSSL programs do (SSL_CTX_set_default_verify_paths: the
 * file and the hashed directory under OPENSSLDIR, or SSL_CERT_FILE / SSL_CERT_DIR), checks the
 * server's certificate chain and its IP address, and prints the server's first line.
 * Exit status: 0 verified, 1 refused, 2 usage, 3 any other failure. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "loopback.h"

static int fail(const char* what) {
    fprintf(stderr, "%s failed\n", what);
    ERR_print_errors_fp(stderr);
    return 3;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    printf("defaults: %s %s\n", X509_get_default_cert_file(), X509_get_default_cert_dir());

    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        return fail("SSL_CTX_new");
    }
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return fail("SSL_CTX_set_default_verify_paths");
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

    const int fd = connect_loopback(argv[1]);
    if (fd < 0) {
        return 3;
    }

    SSL* ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") != 1) {
        return fail("SSL_new");
    }
    if (SSL_connect(ssl) != 1) {
        const long result = SSL_get_verify_result(ssl);
        if (result != X509_V_OK) {
            printf("refused: %s\n", X509_verify_cert_error_string(result));
            return 1;
        }
        return fail("SSL_connect");
    }

    char subject[256];
    X509* peer = SSL_get1_peer_certificate(ssl);
    X509_NAME_oneline(X509_get_subject_name(peer), subject, sizeof subject);
    X509_free(peer);
    const char request[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (SSL_write(ssl, request, (int)strlen(request)) <= 0) {
        return fail("SSL_write");
    }
    char reply[256];
    const int got = SSL_read(ssl, reply, (int)sizeof reply - 1);
    if (got <= 0) {
        return fail("SSL_read");
    }
    reply[got] = '\0';
    reply[strcspn(reply, "\r\n")] = '\0';
    printf("verified: %s\nreply: %s\n", subject, reply);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return 0;
}
