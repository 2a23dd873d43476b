//! The node-number lease contract (`crate::nodes`) over a store's conditional writes: run by
//! the server's tests against every store adapter (adapters run the port suites of
//! `core_ports::contract`; this one needs core's lease logic, so it stays here).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ports::Store;

/// The node-number lease contract (`crate::nodes`) over a store's conditional writes. Needs a
/// store in which nobody else leases numbers (a fresh one); times are explicit, nothing sleeps.
pub async fn node_lease_suite(store: std::sync::Arc<dyn Store>) {
    use crate::config::NodeLeaseConfig;
    use crate::nodes::{EDGE_NODES, LEASABLE_NODES, LeaseError, NodeLeases};

    let config = NodeLeaseConfig { lease_secs: 60, renew_secs: 10, grace_secs: 10 };
    let process = || NodeLeases::new(store.clone(), &config);
    let t0 = 1_900_000_000_000u64;

    // Acquisition: the lowest free numbers, each to one process, spans starting now.
    let (a, b) = (process(), process());
    let ga = a.acquire(t0).await.unwrap();
    assert_eq!((ga.node, ga.from_ms, ga.until_ms), (0, t0, t0 + 60_000), "the first lease takes number 0 for one lease length");
    let gb = b.acquire(t0).await.unwrap();
    assert_eq!(gb.node, 1, "a second process gets another number");
    assert_eq!(a.holder(0).await.unwrap().and_then(|h| h.owner).as_deref(), Some(a.owner()), "the store names the holder");

    // Renewal moves the end forward, never the start; a renewal whose answer was lost is adopted.
    let ga2 = a.renew(&ga, t0 + 10_000).await.unwrap();
    assert_eq!((ga2.node, ga2.from_ms, ga2.until_ms), (0, t0, t0 + 70_000), "renewal extends the span");
    let adopted = a.renew(&ga, t0 + 10_000).await.unwrap();
    assert_eq!(adopted.until_ms, ga2.until_ms, "a stale grant of the same holder adopts what is stored");
    let ga3 = a.renew(&adopted, t0 + 20_000).await.unwrap();
    assert_eq!(ga3.until_ms, t0 + 80_000);
    let gb2 = b.renew(&gb, t0 + 20_000).await.unwrap();
    assert_eq!(gb2.until_ms, t0 + 80_000);

    // Within the grace period after its end a lease is not taken over.
    let d = process();
    let gd = d.acquire(t0 + 85_000).await.unwrap();
    assert_eq!(gd.node, 2, "numbers whose lease just ended are not taken before the grace period");

    // Past it, the number is taken over; the new span starts where the old one ended, so the
    // two never stamp the same millisecond, and the old holder learns it lost the number.
    let late = t0 + 90_000;
    let c = process();
    let gc = c.acquire(late).await.unwrap();
    assert_eq!((gc.node, gc.from_ms, gc.until_ms), (0, ga3.until_ms, late + 60_000), "a lapsed number is taken over from its old end");
    assert!(matches!(a.renew(&ga3, late).await, Err(LeaseError::Lost { node: 0 })), "the old holder cannot renew a number taken over");
    assert!(matches!(a.release(&ga3, ga3.until_ms).await, Err(LeaseError::Lost { node: 0 })), "nor release it");
    assert_eq!(c.holder(0).await.unwrap().and_then(|h| h.owner).as_deref(), Some(c.owner()));

    // Release hands the rest of the span back at once: the next holder starts after the last
    // id minted.
    c.release(&gc, gc.from_ms + 5).await.unwrap();
    let released = c.holder(0).await.unwrap().unwrap();
    assert_eq!((released.owner, released.until_ms), (None, gc.from_ms + 5), "a released number names no owner");
    let e = process();
    let ge = e.acquire(late).await.unwrap();
    assert_eq!((ge.node, ge.from_ms), (0, gc.from_ms + 5), "a released number is free before its lease would have ended");

    // Processes starting together get distinct numbers.
    let starters: Vec<NodeLeases> = (0..8).map(|_| process()).collect();
    let grants = futures_util::future::join_all(starters.iter().map(|p| p.acquire(late))).await;
    let mut held: Vec<u8> = vec![ge.node, gd.node];
    held.extend(grants.into_iter().map(|g| g.expect("concurrent acquisition").node));
    let mut unique = held.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), held.len(), "concurrent acquisitions never share a number: {held:?}");

    // Exhaustion: every leasable number held, the next process is refused with a clear error;
    // the edges' numbers are never leased.
    loop {
        match process().acquire(late).await {
            Ok(grant) => held.push(grant.node),
            Err(LeaseError::Exhausted { retry_in_ms }) => {
                assert!(retry_in_ms > 0 && retry_in_ms <= 70_000, "the error says when a number frees: {retry_in_ms}");
                let message = LeaseError::Exhausted { retry_in_ms }.to_string();
                assert!(message.contains("all 62 node numbers"), "{message}");
                break;
            }
            Err(e) => panic!("acquisition failed: {e}"),
        }
        assert!(held.len() <= usize::from(LEASABLE_NODES), "more grants than numbers: {held:?}");
    }
    held.sort_unstable();
    assert_eq!(held, (0..LEASABLE_NODES).collect::<Vec<_>>(), "every leasable number was handed out once");
    for edge in EDGE_NODES {
        assert_eq!(a.holder(edge).await.unwrap(), None, "edge number {edge} is never leased");
    }
}
