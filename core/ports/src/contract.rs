//! Contract suites for the ports: every adapter runs the same assertions, the embedded ones in
//! every `cargo test`, the production ones against real servers in the full suite.
//!
//! Each port has a module with one `async fn` per promise, named as a sentence, panicking with
//! a message naming the broken promise; `all` runs every promise of the port in turn (for
//! setups too costly to repeat, such as a Redis cluster). The `*_contract_tests!` macros turn a
//! port's promises into one `#[tokio::test]` each:
//!
//! ```ignore
//! core_ports::store_contract_tests!(async { core_ports::contract::Fixture::new(store, dir) });
//! core_ports::store_contract_tests!(fresh_table(), #[ignore = "needs DynamoDB"]);
//! ```
//!
//! The expression is a future of a fixture: something that dereferences to the adapter
//! (`Box`, `Arc`, or [`Fixture`] when a temporary directory or a server must outlive it). For
//! the event log it is one adapter being both [`crate::ports::Store`] and
//! [`crate::ports::EventLog`]; for the shared stream hub, the event sink and the push publisher
//! a pair: two hubs, or the port and the probe that reads back what it handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod event_log;
pub mod event_sink;
pub mod media_store;
pub mod push_publisher;
pub mod rate_limit;
pub mod search_index;
pub mod shared_stream_hub;
pub mod store;
pub mod stream_hub;
pub mod timeline_cache;

use std::any::Any;

/// An adapter with what must outlive it (its temporary directory, the server it talks to).
pub struct Fixture<T> {
    /// The adapter.
    pub port: T,
    _keep: Box<dyn Any>,
}

impl<T> Fixture<T> {
    /// `port`, keeping `keep` alive as long as it.
    pub fn new(port: T, keep: impl Any) -> Self {
        Fixture { port, _keep: Box::new(keep) }
    }
}

impl<T> std::ops::Deref for Fixture<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.port
    }
}

/// A unique prefix so suites can share a backend (e.g. one DynamoDB table) without clashing.
pub fn ns(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("t{nanos}x{}#{tag}", N.fetch_add(1, Ordering::Relaxed))
}

/// A position no earlier run has used (claims and sink records may outlive a suite in a
/// shared server); multiples of 4096, so a suite may use the next 4095 too.
pub fn fresh_seq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let base = u64::try_from(nanos % (1 << 40)).unwrap_or(0);
    (base + N.fetch_add(1, Ordering::Relaxed)) << 12
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_tests {
    ($shape:ident $module:ident [$($attr:tt)*] ($make:expr);) => {};
    ($shape:ident $module:ident [$($attr:tt)*] ($make:expr); $name:ident $($rest:ident)*) => {
        $($attr)*
        #[::tokio::test]
        async fn $name() {
            $crate::__contract_call!($shape $crate::contract::$module::$name, $make);
        }
        $crate::__contract_tests!($shape $module [$($attr)*] ($make); $($rest)*);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_call {
    (one $f:path, $make:expr) => {{
        let fixture = $make.await;
        $f(&*fixture).await
    }};
    (same $f:path, $make:expr) => {{
        let fixture = $make.await;
        $f(&*fixture, &*fixture).await
    }};
    (pair $f:path, $make:expr) => {{
        let (first, second) = $make.await;
        $f(&*first, &*second).await
    }};
}

/// One `#[tokio::test]` per [`store`] promise.
#[macro_export]
macro_rules! store_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one store [$(#[$attr])*] ($make);
            puts_read_back_and_deletes_remove a_failed_condition_writes_nothing_and_names_its_write exists_conditions_need_the_item
            counters_start_at_zero_and_add concurrent_adds_are_not_lost queries_scan_one_partition_in_order_within_bounds
            prefixes_narrow_a_scan get_many_answers_every_key_in_order oversized_transactions_are_refused
            concurrent_conditional_puts_have_one_winner a_compare_and_set_is_atomic_under_contention);
    };
}

/// One `#[tokio::test]` per [`event_log`] promise; the fixture is both store and log.
#[macro_export]
macro_rules! event_log_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(same event_log [$(#[$attr])*] ($make);
            committed_events_appear_in_commit_order reads_start_after_a_position_and_honour_the_limit
            checkpoints_start_at_zero_and_persist an_idle_read_waits_up_to_its_bound
            one_accounts_events_keep_their_order a_transaction_may_span_partitions);
    };
}

/// One `#[tokio::test]` per [`timeline_cache`] promise.
#[macro_export]
macro_rules! timeline_cache_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one timeline_cache [$(#[$attr])*] ($make);
            unbuilt_timelines_do_not_exist_and_fanout_skips_them entries_come_newest_first_once_each
            a_timeline_holds_one_entry_per_original ranges_honour_the_window removed_entries_are_gone
            timelines_keep_the_newest_cap_entries fanout_reaches_existing_timelines_only dropped_timelines_are_gone);
    };
}

/// One `#[tokio::test]` per [`rate_limit`] promise.
#[macro_export]
macro_rules! rate_limit_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one rate_limit [$(#[$attr])*] ($make);
            a_burst_is_cut_at_the_limit capacity_returns_with_time keys_are_independent);
    };
}

/// One `#[tokio::test]` per [`search_index`] promise.
#[macro_export]
macro_rules! search_index_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one search_index [$(#[$attr])*] ($make);
            statuses_rank_by_relevance_and_every_word_must_match typos_are_tolerated_from_four_characters
            query_syntax_is_not_interpreted readers_find_only_what_they_may_see filters_and_paging_narrow_results
            reindexing_replaces_and_deleting_removes accounts_are_found_by_name_prefixes hashtags_count_public_uses_exact_first
            clearing_removes_everything);
    };
}

/// One `#[tokio::test]` per [`media_store`] promise.
#[macro_export]
macro_rules! media_store_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one media_store [$(#[$attr])*] ($make);
            a_missing_object_reads_as_none puts_read_back_and_replace binary_objects_round_trip_exactly
            deleted_objects_are_gone_and_deleting_twice_is_fine invalid_keys_are_refused);
    };
}

/// One `#[tokio::test]` per [`stream_hub`] promise.
#[macro_export]
macro_rules! stream_hub_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(one stream_hub [$(#[$attr])*] ($make);
            a_fresh_channel_has_no_subscribers every_subscriber_receives_exactly_what_is_published
            one_publishers_messages_arrive_in_order large_payloads_arrive_whole channels_may_have_non_ascii_names
            channels_can_be_subscribed_again_after_everyone_left each_event_is_claimed_once);
    };
}

/// One `#[tokio::test]` per [`shared_stream_hub`] promise; the fixture is a pair of hubs.
#[macro_export]
macro_rules! shared_stream_hub_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(pair shared_stream_hub [$(#[$attr])*] ($make);
            messages_reach_the_other_process_once publishers_see_the_other_process_subscribers
            exactly_one_process_claims_an_event);
    };
}

/// One `#[tokio::test]` per [`event_sink`] promise; the fixture is (sink, probe).
#[macro_export]
macro_rules! event_sink_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(pair event_sink [$(#[$attr])*] ($make);
            every_event_of_an_accepted_batch_is_handled_as_what_it_is a_redelivered_batch_is_accepted_and_keyed_by_seq
            an_empty_batch_is_accepted a_large_batch_is_handled_whole);
    };
}

/// One `#[tokio::test]` per [`push_publisher`] promise; the fixture is (publisher, probe).
#[macro_export]
macro_rules! push_publisher_contract_tests {
    ($make:expr $(, #[$attr:meta])* $(,)?) => {
        $crate::__contract_tests!(pair push_publisher [$(#[$attr])*] ($make);
            a_published_message_arrives_whole each_publish_arrives_once the_server_key_is_a_vapid_public_key);
    };
}
