//! Store URLs:
//!
//! | URL | store |
//! | --- | --- |
//! | `./queue-data`, `/var/lib/queue`, `file:///var/lib/queue` | a local directory (created if missing) |
//! | `gs://bucket[/prefix]` | Google Cloud Storage; `STORAGE_EMULATOR_HOST` for an emulator, else Application Default Credentials |
//! | `s3://bucket[/prefix]` | S3 or compatible; the usual `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, keys) |
//! | `memory://` | in memory, this process only |
//!
//! The environment is read by the binaries into a [`StoreEnv`]; this module only takes it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::ClientOptions;
use object_store::StaticCredentialProvider;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::{GcpCredential, GoogleCloudStorageBuilder};

use super::Bucket;
use crate::error::{Error, ErrorKind, Result};

/// A parsed store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A local directory.
    Local(PathBuf),
    /// `gs://bucket/prefix`.
    Gcs {
        /// Bucket name.
        bucket: String,
        /// Prefix inside it (may be empty).
        prefix: String,
    },
    /// `s3://bucket/prefix`.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Prefix inside it (may be empty).
        prefix: String,
    },
    /// `memory://`.
    Memory,
}

/// The environment that store URLs depend on, read by a binary with [`StoreEnv::from_env`].
#[derive(Debug, Clone, Default)]
pub struct StoreEnv {
    /// Every variable that matters to the stores (`STORAGE_EMULATOR_HOST`, `GOOGLE_*`, `AWS_*`,
    /// `HOME`, `K_SERVICE`).
    pub vars: BTreeMap<String, String>,
}

impl StoreEnv {
    /// Read the variables from the process environment.
    pub fn from_env() -> Self {
        let vars = std::env::vars()
            .filter(|(k, _)| {
                k.starts_with("AWS_")
                    || k.starts_with("GOOGLE_")
                    || matches!(
                        k.as_str(),
                        "STORAGE_EMULATOR_HOST" | "HOME" | "K_SERVICE" | "GCE_METADATA_HOST"
                    )
            })
            .collect();
        StoreEnv { vars }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.vars
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

impl StoreUrl {
    /// Parse a store URL, with an error that lists the accepted forms.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let bad = |why: &str| {
            Error::invalid(format!(
                "bad store url: url={url:?} ({why}); use a directory path, file:///path, gs://bucket[/prefix], s3://bucket[/prefix] or memory://"
            ))
        };
        if url.is_empty() {
            return Err(bad("empty"));
        }
        if url == "memory://" || url == "memory:" {
            return Ok(StoreUrl::Memory);
        }
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(bad("file:// needs a path"));
            }
            return Ok(StoreUrl::Local(PathBuf::from(path)));
        }
        for (scheme, gcs) in [("gs://", true), ("s3://", false)] {
            if let Some(rest) = url.strip_prefix(scheme) {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if !valid_bucket(bucket) {
                    return Err(bad(
                        "bucket names are 3-63 lowercase letters, digits, '-', '_' or '.'",
                    ));
                }
                let (bucket, prefix) = (bucket.to_string(), prefix.trim_matches('/').to_string());
                return Ok(if gcs {
                    StoreUrl::Gcs { bucket, prefix }
                } else {
                    StoreUrl::S3 { bucket, prefix }
                });
            }
        }
        if url.contains("://") {
            return Err(bad("unknown scheme"));
        }
        Ok(StoreUrl::Local(PathBuf::from(url)))
    }

    /// Build the bucket (no network yet; [`Bucket::probe`] checks it can be reached).
    pub fn build(&self, env: &StoreEnv) -> Result<Bucket> {
        match self {
            StoreUrl::Memory => Ok(Bucket::memory()),
            StoreUrl::Local(dir) => Bucket::local(dir),
            StoreUrl::Gcs { bucket, prefix } => build_gcs(bucket, prefix, env),
            StoreUrl::S3 { bucket, prefix } => build_s3(bucket, prefix, env),
        }
    }
}

fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
        })
}

fn describe(scheme: &str, bucket: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        format!("{scheme}://{bucket}")
    } else {
        format!("{scheme}://{bucket}/{prefix}")
    }
}

fn build_gcs(bucket: &str, prefix: &str, env: &StoreEnv) -> Result<Bucket> {
    let description = describe("gs", bucket, prefix);
    let mut builder = GoogleCloudStorageBuilder::new().with_bucket_name(bucket);
    if let Some(host) = env.get("STORAGE_EMULATOR_HOST") {
        // As Google's client libraries do: plain HTTP, no credentials.
        let base = if host.contains("://") {
            host.to_string()
        } else {
            format!("http://{host}")
        };
        builder = builder
            .with_base_url(base.trim_end_matches('/'))
            .with_credentials(Arc::new(StaticCredentialProvider::new(GcpCredential {
                bearer: String::new(),
            })))
            .with_client_options(ClientOptions::new().with_allow_http(true));
    } else {
        for (k, v) in &env.vars {
            if k.starts_with("GOOGLE_")
                && let Ok(key) = k.to_ascii_lowercase().parse()
            {
                builder = builder.with_config(key, v);
            }
        }
        if let Some(path) = env.get("GOOGLE_APPLICATION_CREDENTIALS") {
            if !std::path::Path::new(path).exists() {
                return Err(Error::new(
                    ErrorKind::Unauthenticated,
                    format!("GOOGLE_APPLICATION_CREDENTIALS points to a missing file: path={path}"),
                ));
            }
            builder = builder.with_application_credentials(path);
        } else if !has_ambient_google_credentials(env) {
            return Err(Error::new(
                ErrorKind::Unauthenticated,
                format!(
                    "no Google credentials for store={description}: run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a key file, run on GCE/Cloud Run, or set STORAGE_EMULATOR_HOST for an emulator"
                ),
            ));
        }
    }
    let store = builder
        .build()
        .map_err(|e| Error::store("open", &description, e))?;
    Ok(Bucket::new(Arc::new(store), prefix, description).remote())
}

/// Application Default Credentials without GOOGLE_APPLICATION_CREDENTIALS: the gcloud file, or
/// the metadata server on Google's machines.
fn has_ambient_google_credentials(env: &StoreEnv) -> bool {
    let gcloud_file = env
        .get("HOME")
        .map(|h| PathBuf::from(h).join(".config/gcloud/application_default_credentials.json"))
        .is_some_and(|p| p.exists());
    let on_google = env.get("K_SERVICE").is_some()
        || env.get("GCE_METADATA_HOST").is_some()
        || std::fs::read_to_string("/sys/class/dmi/id/product_name")
            .is_ok_and(|s| s.contains("Google"));
    gcloud_file || on_google
}

fn build_s3(bucket: &str, prefix: &str, env: &StoreEnv) -> Result<Bucket> {
    let description = describe("s3", bucket, prefix);
    let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
    for (k, v) in &env.vars {
        if k.starts_with("AWS_")
            && let Ok(key) = k.to_ascii_lowercase().parse()
        {
            builder = builder.with_config(key, v);
        }
    }
    if let Some(endpoint) = env
        .get("AWS_ENDPOINT_URL")
        .or_else(|| env.get("AWS_ENDPOINT"))
    {
        builder = builder.with_endpoint(endpoint);
        if endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
    }
    if env.get("AWS_REGION").is_none() && env.get("AWS_DEFAULT_REGION").is_none() {
        builder = builder.with_region("us-east-1");
    }
    let has_keys =
        env.get("AWS_ACCESS_KEY_ID").is_some() && env.get("AWS_SECRET_ACCESS_KEY").is_some();
    let has_other = env.get("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
        || env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
        || env.get("AWS_PROFILE").is_some();
    if !has_keys && !has_other && env.get("AWS_SKIP_SIGNATURE").is_none() {
        // The instance metadata service may still answer on EC2; warn rather than refuse.
        tracing::warn!(store = %description, "no AWS credentials in the environment; relying on the instance metadata service");
    }
    let store = builder
        .build()
        .map_err(|e| Error::store("open", &description, e))?;
    Ok(Bucket::new(Arc::new(store), prefix, description).remote())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_documented_form() {
        assert_eq!(
            StoreUrl::parse("./queue-data").unwrap(),
            StoreUrl::Local("./queue-data".into())
        );
        assert_eq!(
            StoreUrl::parse("file:///var/q").unwrap(),
            StoreUrl::Local("/var/q".into())
        );
        assert_eq!(StoreUrl::parse("memory://").unwrap(), StoreUrl::Memory);
        assert_eq!(
            StoreUrl::parse("gs://my-bucket/queue/").unwrap(),
            StoreUrl::Gcs {
                bucket: "my-bucket".into(),
                prefix: "queue".into()
            }
        );
        assert_eq!(
            StoreUrl::parse("s3://b-1").unwrap(),
            StoreUrl::S3 {
                bucket: "b-1".into(),
                prefix: "".into()
            }
        );
    }

    #[test]
    fn bad_urls_say_what_is_accepted() {
        for bad in ["", "ftp://x/y", "gs://", "gs://UPPER", "s3://a"] {
            let err = StoreUrl::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(err.to_string().contains("gs://bucket"), "{err}");
        }
    }

    #[test]
    fn gcs_without_credentials_is_a_clear_error() {
        let env = StoreEnv {
            vars: BTreeMap::from([("HOME".to_string(), "/nonexistent".to_string())]),
        };
        let err = StoreUrl::parse("gs://some-bucket").unwrap().build(&env);
        // On a Google machine the metadata server counts as credentials; elsewhere: refused.
        if let Err(err) = err {
            assert_eq!(err.kind(), ErrorKind::Unauthenticated);
            assert!(
                err.to_string()
                    .contains("gcloud auth application-default login"),
                "{err}"
            );
        }
        let env = StoreEnv {
            vars: BTreeMap::from([(
                "GOOGLE_APPLICATION_CREDENTIALS".to_string(),
                "/nonexistent/key.json".to_string(),
            )]),
        };
        let err = StoreUrl::parse("gs://some-bucket")
            .unwrap()
            .build(&env)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }
}
