//! The AWS SDK configuration the AWS adapters share: region, optional endpoint override (moto,
//! a VPC endpoint), optional static credentials — otherwise the SDK's default chain
//! (environment, profile, ECS task role).
//!
//! Owns: how configured connection settings become an SDK config loader. Must never: log or
//! expose the secret key.

use aws_config::{BehaviorVersion, ConfigLoader, Region};
use aws_credential_types::Credentials;

/// Static credentials from the configuration.
#[derive(Clone, Copy)]
pub struct StaticKeys<'a> {
    /// Access key id.
    pub access_key_id: &'a str,
    /// Secret access key.
    pub secret_access_key: &'a str,
    /// Session token of temporary credentials.
    pub session_token: Option<&'a str>,
}

/// A loader for `region`, pointed at `endpoint` when set and signing with `keys` when set;
/// callers add what only they need (timeouts) and `load()` it.
pub fn loader(region: &str, endpoint: Option<&str>, keys: Option<StaticKeys<'_>>) -> ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region.to_owned()));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(k) = keys {
        loader =
            loader.credentials_provider(Credentials::new(k.access_key_id, k.secret_access_key, k.session_token.map(str::to_owned), None, "starling-config"));
    }
    loader
}

/// [`StaticKeys`] from an `(access key id, secret)` pair, as the adapters' configs hold them.
pub fn keys(pair: Option<&(String, String)>) -> Option<StaticKeys<'_>> {
    pair.map(|(id, secret)| StaticKeys { access_key_id: id, secret_access_key: secret, session_token: None })
}
