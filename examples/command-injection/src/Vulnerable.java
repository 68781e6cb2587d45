// A deliberately vulnerable service, for the demo only: GET /run?cmd=... runs the command, as
// code with a command-injection bug ends up doing, and POST /upload?path=... writes the body to
// that path. Never deploy this.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class Vulnerable {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        server.createContext("/run", exchange -> {
            String command = parameter(exchange, "cmd");
            String answer;
            try {
                // The bug: user input straight into exec (split on whitespace).
                Process process = new ProcessBuilder(command.trim().split("\\s+"))
                        .redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes(),
                        StandardCharsets.UTF_8);
                answer = "exit=" + process.waitFor() + "\n" + output;
            } catch (IOException | InterruptedException e) {
                answer = "error: " + e.getMessage() + "\n";
            }
            answer(exchange, answer);
        });
        // The second bug: the request body written to any path the query names (an upload
        // handler that trusts the file name), made executable.
        server.createContext("/upload", exchange -> {
            String path = parameter(exchange, "path");
            String answer;
            try {
                Path file = Path.of(path);
                Files.write(file, exchange.getRequestBody().readAllBytes());
                file.toFile().setExecutable(true, false);
                answer = "written\n";
            } catch (IOException | RuntimeException e) {
                answer = "error: " + e.getMessage() + "\n";
            }
            answer(exchange, answer);
        });
        server.start();
        System.out.println("vulnerable service listening on port " + port);
    }

    /** The query's one parameter `name` (`?name=value`), decoded; empty when it has none. */
    private static String parameter(HttpExchange exchange, String name) {
        String query = exchange.getRequestURI().getRawQuery();
        return query == null || !query.startsWith(name + "=") ? ""
                : URLDecoder.decode(query.substring(name.length() + 1), StandardCharsets.UTF_8);
    }

    private static void answer(HttpExchange exchange, String answer) throws IOException {
        byte[] body = answer.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
