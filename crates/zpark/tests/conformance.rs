//! The conformance suite on the embedded engine, and on the fake cluster engine of the testkit
//! (an engine outside the core whose stages leave the driver). The Spark engine runs the same
//! cases in `crates/zpark-spark/tests/conformance.rs`.

zpark_testkit::conformance_tests!(zpark::Engine::local(2));

mod one_thread {
    zpark_testkit::conformance_tests!(zpark::Engine::local(1));
}

mod fake_cluster {
    zpark_testkit::conformance_tests!(zpark_testkit::fake_cluster::FakeCluster::with_common_types().engine());
}
