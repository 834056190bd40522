// Local development server for Customer Graph 360: Neo4j Community embedded, Bolt on loopback.
// Started by `c360 neo4j start` (graph/local_server.py); production uses a real Neo4j deployment.
//
// Arguments: <home-dir> <bolt-port> <pagecache-size>
// Environment: C360_NEO4J_PASSWORD sets the password of the `neo4j` user (auth is enforced).
//              C360_NEO4J_STOP_WITH_PID: shut down cleanly when that process ends (a test run, a
//              benchmark or `make demo` that was killed leaves no server behind).
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.kernel.internal.Version;

public final class Launcher {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        String pagecache = args.length > 2 ? args[2] : "512m";
        String password = System.getenv("C360_NEO4J_PASSWORD");
        Files.createDirectories(home);
        stopWith(System.getenv("C360_NEO4J_STOP_WITH_PID"));

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, password != null && !password.isEmpty())
                .setConfig(GraphDatabaseSettings.pagecache_memory,
                        org.neo4j.io.ByteUnit.parse(pagecache))
                // procedures from a folder outside the data directory (a benchmark's APOC)
                .setConfig(GraphDatabaseSettings.plugin_dir, pluginDir(home))
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("c360-neo4j: shutting down");
            dbms.shutdown();
            stopped.countDown();
        }));

        if (password != null && !password.isEmpty()) {
            GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
            try {
                system.executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
            } catch (QueryExecutionException e) {
                // A data directory started before already has this password: Neo4j refuses to
                // "change" it to itself, which is no error for us. Anything else ends the start
                // (exit runs the shutdown hook), rather than leaving a server that never answers.
                if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    System.out.println("c360-neo4j: could not set the password: " + e.getMessage());
                    System.out.flush();
                    System.exit(1);
                }
            }
        }
        // Opening the default database makes sure it is available before we report readiness.
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        System.out.println("c360-neo4j: ready version=" + Version.getNeo4jVersion()
                + " bolt=127.0.0.1:" + port + " home=" + home);
        System.out.flush();
        stopped.await();
    }

    /** C360_NEO4J_PLUGINS when set, else Neo4j's default: the data directory's plugins. */
    private static Path pluginDir(Path home) {
        String dir = System.getenv("C360_NEO4J_PLUGINS");
        return dir == null || dir.isEmpty() ? home.resolve("plugins") : Path.of(dir);
    }

    /** Exits (running the shutdown hook) once the process {@code pid} has ended. */
    private static void stopWith(String pid) {
        if (pid == null || pid.isEmpty()) {
            return;
        }
        // ProcessHandle remembers the start time, so a reused pid does not count as alive.
        ProcessHandle owner = ProcessHandle.of(Long.parseLong(pid)).orElse(null);
        Thread watcher = new Thread(() -> {
            try {
                while (owner != null && owner.isAlive()) {
                    Thread.sleep(500);
                }
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("c360-neo4j: process " + pid + " ended; shutting down");
            System.out.flush();
            System.exit(0);
        }, "c360-stop-with-" + pid);
        watcher.setDaemon(true);
        watcher.start();
    }
}
