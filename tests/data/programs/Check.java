// Run inside the java17 image by the system tests: who am I, which JVM, and how many CA
// certificates does the default trust store hold?
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public final class Check {
    public static void main(String[] args) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) {
                System.out.println("uid=" + line.split("\\s+")[1]);
            }
        }
        System.out.println("user.name=" + System.getProperty("user.name"));
        System.out.println("java.home=" + System.getProperty("java.home"));
        System.out.println("command=" + ProcessHandle.current().info().command().orElse("?"));
        TrustManagerFactory factory =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init((KeyStore) null); // the JVM's default trust store
        int trusted = 0;
        for (var manager : factory.getTrustManagers()) {
            if (manager instanceof X509TrustManager x509) {
                trusted += x509.getAcceptedIssuers().length;
            }
        }
        System.out.println("trusted=" + trusted);
    }
}
