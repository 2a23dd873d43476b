#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The contract suites of the ports without an embedded adapter, against the in-memory
//! reference adapters: the suites themselves are checked in every `cargo test`.

use std::sync::Arc;

use core_ports::reference::{MemoryEventSink, MemoryPushPublisher};

/// A VAPID public key (an uncompressed P-256 point, base64url).
const SERVER_KEY: &str = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM";

mod memory_event_sink {
    use super::*;

    core_ports::event_sink_contract_tests!(async {
        let sink = Arc::new(MemoryEventSink::new());
        (sink.clone(), sink)
    });
}

mod memory_push_publisher {
    use super::*;

    core_ports::push_publisher_contract_tests!(async {
        let publisher = Arc::new(MemoryPushPublisher::new(SERVER_KEY));
        (publisher.clone(), publisher)
    });
}

#[tokio::test]
async fn a_failing_sink_refuses_batches_with_its_cause() {
    use core_ports::ports::EventSink;
    let sink = MemoryEventSink::new();
    sink.set_failing(true);
    let error = sink.deliver(&[]).await.expect_err("a failing sink refuses");
    let source = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(source.as_deref(), Some("memory sink: the sink is down"), "the cause is the error's source");
    assert_eq!(core_ports::ports::error_chain(&error), "event sink failed: memory sink: the sink is down", "the chain repeats nothing");
    sink.set_failing(false);
    sink.deliver(&[]).await.expect("and accepts them again when it is back");
}

#[tokio::test]
async fn the_push_suite_refuses_a_server_key_that_is_not_a_vapid_key() {
    let publisher = Arc::new(MemoryPushPublisher::new("BPublicVapidKey"));
    let run = tokio::spawn(async move { core_ports::contract::push_publisher::the_server_key_is_a_vapid_public_key(&*publisher, &*publisher).await });
    assert!(run.await.is_err(), "the suite can fail");
}
