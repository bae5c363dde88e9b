//! The conformance suite on Spark: the cases of the embedded engine, against the server that
//! `scripts/spark-server.sh` starts (the README's test command runs them with `--ignored`).

mod common;

fn spark() -> zpark::Engine {
    zpark_spark::register();
    zpark::Engine::connect(&common::spark_url()).unwrap_or_else(|e| panic!("{}", e.report()))
}

zpark_testkit::conformance_tests!(spark(), #[ignore = "needs a Spark Connect server: scripts/test.sh starts one"]);
