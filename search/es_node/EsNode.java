// One Elasticsearch 7.10 node for the search contract tests, run from the jars Maven copied to
// lib/:   java -Des.http.port=9200 -cp 'lib/*' EsNode.java DATA_DIR
// (Java 17 single-file launch, no build step). HTTP on 127.0.0.1 only, disk watermarks off so a
// nearly full CI disk does not turn indices read-only. 7.10 has no GeoIP downloader (it came in
// 7.14) and the cluster runner does not load the ingest-geoip module, so nothing goes online.
import static org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner.newConfigs;

import org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner;

public class EsNode {
    public static void main(String[] args) throws Exception {
        String dataDir = args.length > 0 ? args[0] : "var/es-node/data";
        int httpPort = Integer.parseInt(System.getProperty("es.http.port", "9200"));
        // Transport next to HTTP (9200 → 9300), so two nodes on different HTTP ports never clash.
        int transportPort = httpPort + 100;
        ElasticsearchClusterRunner runner = new ElasticsearchClusterRunner();
        runner.onBuild((number, settings) -> {
            settings.put("network.host", "127.0.0.1");
            settings.put("http.port", Integer.toString(httpPort));
            settings.put("transport.port", Integer.toString(transportPort));
            settings.put("cluster.routing.allocation.disk.threshold_enabled", false);
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
