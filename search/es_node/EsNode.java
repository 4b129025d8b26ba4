// One Elasticsearch node for the search contract tests, run from the jars Maven copied to lib/:
//   java -cp 'lib/*' EsNode.java DATA_DIR
// (Java 17 single-file launch, no build step). HTTP on 127.0.0.1:9200, disk watermarks and the
// GeoIP downloader off, so a nearly full CI disk or no internet does not block the node.
import static org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner.newConfigs;

import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

public class EsNode {
    public static void main(String[] args) throws Exception {
        String dataDir = args.length > 0 ? args[0] : "var/es-node";
        int httpPort = Integer.parseInt(System.getProperty("es.http.port", "9200"));
        ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        runner.onBuild((number, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", Integer.toString(httpPort));
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
            settings.put("ingest.geoip.downloader.enabled", false);
            settings.put("action.destructive_requires_name", false);
        }).build(newConfigs()
                .clusterName("teaching-archive-test")
                .numOfNode(1)
                .basePath(dataDir)
                .baseHttpPort(httpPort - 1)
                .disableESLogger());
        runner.ensureYellow();
        System.out.println("es-node: ready on http://127.0.0.1:" + httpPort);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (Exception e) {
                System.err.println("es-node: close failed: " + e);
            }
        }));
        Thread.currentThread().join();
    }
}
