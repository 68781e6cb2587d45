/* Run inside an image with GnuTLS by the TLS system tests: connects to 127.0.0.1:PORT with
 * GnuTLS's system trust (gnutls_certificate_set_x509_system_trust, which Debian's GnuTLS reads
 * from /etc/ssl/certs/ca-certificates.crt), checks the server's certificate chain and its IP
 * address, and prints the server's first line.
 * Exit status: 0 verified, 1 refused, 2 usage, 3 any other failure. */
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loopback.h"

static int fail(const char* what, int code) {
    fprintf(stderr, "%s failed: %s\n", what, gnutls_strerror(code));
    return 3;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    gnutls_certificate_credentials_t credentials;
    int code = gnutls_certificate_allocate_credentials(&credentials);
    if (code < 0) {
        return fail("gnutls_certificate_allocate_credentials", code);
    }
    const int trusted = gnutls_certificate_set_x509_system_trust(credentials);
    if (trusted < 0) {
        return fail("gnutls_certificate_set_x509_system_trust", trusted);
    }
    printf("system trust: %d certificates\n", trusted);

    const int fd = connect_loopback(argv[1]);
    if (fd < 0) {
        return 3;
    }

    gnutls_session_t session;
    if ((code = gnutls_init(&session, GNUTLS_CLIENT)) < 0 ||
        (code = gnutls_set_default_priority(session)) < 0 ||
        (code = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, credentials)) < 0) {
        return fail("gnutls_init", code);
    }
    /* The name to check is an IP address: GnuTLS matches it against the IP addresses of the
     * certificate's subjectAltName. */
    gnutls_session_set_verify_cert(session, "127.0.0.1", 0);
    gnutls_transport_set_int(session, fd);
    gnutls_handshake_set_timeout(session, GNUTLS_DEFAULT_HANDSHAKE_TIMEOUT);
    do {
        code = gnutls_handshake(session);
    } while (code < 0 && gnutls_error_is_fatal(code) == 0);
    if (code < 0) {
        if (code == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
            gnutls_datum_t why;
            gnutls_certificate_verification_status_print(
                gnutls_session_get_verify_cert_status(session), GNUTLS_CRT_X509, &why, 0);
            printf("refused: %s\n", why.data);
            gnutls_free(why.data);
            return 1;
        }
        return fail("gnutls_handshake", code);
    }
    const char request[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if ((code = (int)gnutls_record_send(session, request, strlen(request))) < 0) {
        return fail("gnutls_record_send", code);
    }
    char reply[256];
    ssize_t got = 0;
    /* A TLS 1.3 server sends session tickets after the handshake; GnuTLS takes them in while
     * reading and asks to be called again. */
    for (int attempt = 0; attempt < 100; ++attempt) {
        got = gnutls_record_recv(session, reply, sizeof reply - 1);
        if (got != GNUTLS_E_AGAIN && got != GNUTLS_E_INTERRUPTED) {
            break;
        }
    }
    if (got <= 0) {
        return fail("gnutls_record_recv", (int)got);
    }
    reply[got] = '\0';
    reply[strcspn(reply, "\r\n")] = '\0';
    printf("verified\nreply: %s\n", reply);
    gnutls_bye(session, GNUTLS_SHUT_RDWR);
    gnutls_deinit(session);
    close(fd);
    gnutls_certificate_free_credentials(credentials);
    return 0;
}
