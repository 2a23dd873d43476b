//! The HTTP plumbing handlers share: extractors ([`extract`]) and paginated responses
//! ([`paging`]). The error envelope is [`crate::error`]; the route table is [`crate::routes`].
//!
//! Must never: import a feature module or the route table (handlers import this, not the
//! other way round).

pub mod extract;
pub mod paging;

pub use self::extract::{FlatInput, FormWithFiles, Input, Params, flag, path_id, string_list, truthy, whole_number};
pub use self::paging::{PageParams, Paged, RequestUrl};
