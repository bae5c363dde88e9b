//! The conformance suite on the embedded engine.

zpark_testkit::conformance_tests!(zpark::Engine::local(2));

mod one_thread {
    zpark_testkit::conformance_tests!(zpark::Engine::local(1));
}
