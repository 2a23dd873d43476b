//! Who sees what, in one place: [`visibility`] answers "may reader R see status S",
//! [`feed`] answers "does S belong in R's home, the public or a tag feed, whose homes does a
//! fanout reach, which notification is delivered, which stream event a subscriber gets",
//! [`filtering`] answers "does R's notification policy accept, filter or drop this notification",
//! [`lists`] answers "which list timelines does S go to, and what do exclusive lists keep out of home".
//! [`tags`] answers "who gets S in their home because they follow one of its hashtags".
//! [`quotes`] answers "may R quote S, and what does a quote show R".
//! [`filters`] answers "does one of R's filters hide S here, or warn of it".
//!
//! Every feature asks here instead of deciding itself: statuses, timelines (home, public, tag,
//! profiles), fanout, notifications, Web Push, streaming and search. Blocks and mutes extend
//! [`Relations`] (what is known about the reader's relations to the accounts in question) and
//! the rules that read it, not the callers; a reader's filters are [`filters::Filters`].
//!
//! Must never: write to a port, or depend on a feature module (features depend on this).

pub mod feed;
pub mod filtering;
pub mod filters;
pub mod lists;
pub mod quotes;
pub mod tags;
pub mod visibility;

pub use self::feed::FeedItem;
pub use self::visibility::{Relations, Viewer};
