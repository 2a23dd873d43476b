//! Client configuration from a URL, with TLS for `rediss://` and `rediss-cluster://`.
//!
//! fred would build its own rustls configuration for a `rediss` URL from the process-wide
//! default crypto provider, which does not exist when several providers are compiled in (the
//! AWS SDK brings aws-lc-rs, reqwest ring). So the URL is parsed in its plain form and the TLS
//! configuration is built here: ring explicitly, the system's CAs plus an optional CA file.

use std::path::Path;
use std::sync::Arc;

use core_ports::ports::CacheError;
use fred::rustls;
use fred::rustls::pki_types::CertificateDer;
use fred::rustls::pki_types::pem::PemObject as _;
use fred::types::config::{TlsConfig, TlsConnector, TlsHostMapping};

/// The URL's scheme without TLS, and whether it asked for TLS.
fn plain_scheme(url: &str) -> (String, bool) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_owned(), false) };
    match scheme.to_ascii_lowercase().as_str() {
        "rediss" => (format!("redis://{rest}"), true),
        "rediss-cluster" => (format!("redis-cluster://{rest}"), true),
        _ => (url.to_owned(), false),
    }
}

/// The fred configuration for `url`; TLS when its scheme is `rediss` or `rediss-cluster`.
pub(crate) fn client_config(url: &str, ca_file: Option<&Path>) -> Result<fred::prelude::Config, CacheError> {
    let (plain, tls) = plain_scheme(url);
    let mut config = fred::prelude::Config::from_url(&plain).map_err(|e| CacheError::new("invalid redis url", e))?;
    match (tls, ca_file) {
        (true, ca_file) => {
            let clustered = matches!(config.server, fred::types::config::ServerConfig::Clustered { .. });
            config.tls = Some(TlsConfig {
                connector: TlsConnector::from(rustls_config(ca_file)?),
                // Cluster nodes announce themselves by IP address; their certificates name the
                // cluster's host (ElastiCache: a wildcard under the configuration endpoint's
                // domain), so verify each node against the host the URL names.
                hostnames: if clustered { TlsHostMapping::DefaultHost } else { TlsHostMapping::None },
            });
        }
        (false, Some(_)) => return Err(CacheError("a redis CA file needs a TLS url (rediss:// or rediss-cluster://)".into())),
        (false, None) => {}
    }
    Ok(config)
}

/// rustls on ring, trusting the system's CAs and those in `ca_file`.
fn rustls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, CacheError> {
    let mut roots = rustls::RootCertStore::empty();
    // Unreadable or unparsable system certificates are skipped: one bad file must not make
    // every other CA untrusted.
    let system = fred::rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(system.certs);
    if let Some(path) = ca_file {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| CacheError::new(format!("cannot read the redis CA file {}", path.display()), e))?;
        if certs.is_empty() {
            return Err(CacheError(format!("the redis CA file {} holds no certificate", path.display()).into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| CacheError::new(format!("the redis CA file {} holds an unusable certificate", path.display()), e))?;
        }
    } else if added == 0 {
        return Err(CacheError("no CA certificates to verify redis with: install the system's (ca-certificates) or set [redis] ca_file".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CacheError::new("cannot configure TLS for redis", e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tls_schemes_become_plain_urls_with_a_tls_configuration() {
        assert_eq!(plain_scheme("rediss://:t@cache:6379"), ("redis://:t@cache:6379".to_owned(), true));
        assert_eq!(plain_scheme("rediss-cluster://h:1?node=h:2"), ("redis-cluster://h:1?node=h:2".to_owned(), true));
        assert_eq!(plain_scheme("redis://h:1"), ("redis://h:1".to_owned(), false));
        let single = client_config("rediss://127.0.0.1:6380", None).unwrap();
        assert!(single.tls.as_ref().is_some_and(|t| t.hostnames == TlsHostMapping::None));
        let cluster = client_config("rediss-cluster://127.0.0.1:7000?node=127.0.0.1:7001", None).unwrap();
        assert!(cluster.tls.as_ref().is_some_and(|t| t.hostnames == TlsHostMapping::DefaultHost), "cluster nodes are verified against the url's host");
        assert!(client_config("redis://127.0.0.1:6379", None).unwrap().tls.is_none());
    }

    #[test]
    fn a_ca_file_must_exist_hold_certificates_and_come_with_tls() {
        let missing = client_config("rediss://127.0.0.1:6380", Some(Path::new("/nonexistent/ca.pem"))).err().unwrap();
        assert!(missing.to_string().contains("cannot read the redis CA file /nonexistent/ca.pem"), "{missing}");
        let dir = std::env::temp_dir().join(format!("starling-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let error = client_config("rediss://127.0.0.1:6380", Some(&empty)).err().unwrap();
        assert!(error.to_string().contains("holds no certificate"), "{error}");
        let plain = client_config("redis://127.0.0.1:6379", Some(&empty)).err().unwrap();
        assert!(plain.to_string().contains("needs a TLS url"), "{plain}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
