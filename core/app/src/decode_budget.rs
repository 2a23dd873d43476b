//! The decode budget: a weighted semaphore over pixels. Every image decode takes as many
//! permits as the picture has pixels (width × height, read from its header before anything is
//! decoded) for as long as the pipeline runs, so the pixels being decoded at once — and with
//! them the memory of image processing — never exceed `[media] decode_pixel_budget`. An upload
//! that cannot get its share within `decode_wait_ms` is refused (503), never queued without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the budget has seen: for `/metrics` and tests.
#[derive(Debug, Default)]
struct Gauges {
    /// Pixels held by decodes now.
    in_flight: AtomicU64,
    /// The most pixels ever held at once.
    high_water: AtomicU64,
    /// Uploads refused because the budget stayed taken for the whole wait.
    refused: AtomicU64,
}

/// The pixels that may be decoded at once.
#[derive(Debug)]
pub struct DecodeBudget {
    permits: Arc<Semaphore>,
    /// The budget, in pixels (the semaphore's size).
    total: u64,
    gauges: Arc<Gauges>,
}

/// A share of the budget, given back when dropped (move it into the blocking task, so a
/// request abandoned by its client still holds it until its decode really ends).
#[derive(Debug)]
pub struct DecodePermit {
    _permit: Option<OwnedSemaphorePermit>,
    pixels: u64,
    gauges: Arc<Gauges>,
}

impl Drop for DecodePermit {
    fn drop(&mut self) {
        self.gauges.in_flight.fetch_sub(self.pixels, Ordering::AcqRel);
    }
}

/// A snapshot of the budget's use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeStats {
    /// The configured budget, in pixels.
    pub budget: u64,
    /// Pixels held by decodes now.
    pub in_flight: u64,
    /// The most pixels held at once since start.
    pub high_water: u64,
    /// Uploads refused for want of budget.
    pub refused: u64,
}

impl DecodeBudget {
    /// A budget of `pixels` (at least 1, at most what a semaphore holds).
    pub fn new(pixels: u64) -> Self {
        let total = pixels.clamp(1, u64::try_from(Semaphore::MAX_PERMITS).unwrap_or(u64::MAX));
        let size = usize::try_from(total).unwrap_or(Semaphore::MAX_PERMITS);
        DecodeBudget { permits: Arc::new(Semaphore::new(size)), total, gauges: Arc::default() }
    }

    /// Takes `pixels` of the budget (the whole budget when the picture is larger), waiting at
    /// most `wait`; `None` when the wait ran out. Nothing to decode (0 pixels) takes nothing.
    pub async fn acquire(&self, pixels: u64, wait: Duration) -> Option<DecodePermit> {
        if pixels == 0 {
            return Some(DecodePermit { _permit: None, pixels: 0, gauges: self.gauges.clone() });
        }
        let share = pixels.min(self.total).min(u64::from(u32::MAX));
        let n = u32::try_from(share).unwrap_or(u32::MAX);
        let permit = match tokio::time::timeout(wait, self.permits.clone().acquire_many_owned(n)).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                self.gauges.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        };
        let now = self.gauges.in_flight.fetch_add(share, Ordering::AcqRel) + share;
        self.gauges.high_water.fetch_max(now, Ordering::AcqRel);
        Some(DecodePermit { _permit: Some(permit), pixels: share, gauges: self.gauges.clone() })
    }

    /// The budget's use so far.
    pub fn stats(&self) -> DecodeStats {
        DecodeStats {
            budget: self.total,
            in_flight: self.gauges.in_flight.load(Ordering::Acquire),
            high_water: self.gauges.high_water.load(Ordering::Acquire),
            refused: self.gauges.refused.load(Ordering::Relaxed),
        }
    }
}

impl DecodeBudget {
    /// The budget's gauges in the Prometheus text exposition.
    pub(crate) fn exposition(&self) -> String {
        let s = self.stats();
        let mut out = String::new();
        for (name, kind, help, value) in [
            ("starling_media_decode_pixel_budget", "gauge", "Pixels image decodes may hold at once ([media] decode_pixel_budget).", s.budget),
            ("starling_media_decode_pixels_in_flight", "gauge", "Pixels held by image decodes now.", s.in_flight),
            ("starling_media_decode_pixels_high_water", "gauge", "The most pixels image decodes held at once since start.", s.high_water),
            ("starling_media_decode_refused_total", "counter", "Uploads refused (503) because the decode budget stayed taken.", s.refused),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn shares_never_exceed_the_budget_and_the_excess_times_out() {
        let budget = DecodeBudget::new(100);
        let a = budget.acquire(60, Duration::from_millis(10)).await.unwrap();
        assert!(budget.acquire(60, Duration::from_millis(20)).await.is_none(), "60 + 60 > 100");
        let b = budget.acquire(40, Duration::from_millis(10)).await.unwrap();
        assert_eq!(budget.stats(), DecodeStats { budget: 100, in_flight: 100, high_water: 100, refused: 1 });
        drop((a, b));
        // Larger than the whole budget: takes all of it, once the rest is free.
        let big = budget.acquire(1_000, Duration::from_millis(10)).await.unwrap();
        assert_eq!(budget.stats().in_flight, 100);
        drop(big);
        assert_eq!(budget.stats().in_flight, 0);
        assert!(budget.acquire(0, Duration::ZERO).await.is_some());
        let text = budget.exposition();
        assert!(text.contains("starling_media_decode_pixels_high_water 100\n") && text.contains("starling_media_decode_refused_total 1\n"), "{text}");
    }
}
