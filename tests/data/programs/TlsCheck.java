// Run inside the java17 image by the TLS system tests: fetches https://127.0.0.1:PORT/ with the
// JVM's default trust store (HttpsURLConnection, no trust settings of its own) and prints the
// reply's status line, or why the server was refused.
// Exit status: 0 verified, 1 refused, 2 usage.
import java.io.IOException;
import java.net.URI;
import java.security.cert.X509Certificate;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLException;

public final class TlsCheck {
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: TlsCheck PORT");
            System.exit(2);
        }
        var url = URI.create("https://127.0.0.1:" + args[0] + "/").toURL();
        var connection = (HttpsURLConnection) url.openConnection();
        connection.setConnectTimeout(10_000);
        connection.setReadTimeout(10_000);
        try {
            connection.getInputStream().readAllBytes();
            var peer = (X509Certificate) connection.getServerCertificates()[0];
            System.out.println("verified: " + peer.getSubjectX500Principal());
            System.out.println("reply: " + connection.getHeaderField(0)); // the status line
        } catch (SSLException e) {
            System.out.println("refused: " + e.getMessage());
            System.exit(1);
        }
    }
}
