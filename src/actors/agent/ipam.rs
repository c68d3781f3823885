//! `IpamPool`: this node's pod addresses, from its `podCIDR`. One address per pod uid,
//! idempotently ([`crate::logic::ipam::PodAddresses`]). Every change is written to the
//! agent's data directory (temporary file, fsync, rename, fsync of the directory) before
//! any caller hears about it, so an address in use is always on disk and a crash can at
//! worst leak one, which the start-up reconciliation ([`RetainIps`]) then frees. Writes are
//! group-committed: callers that arrive while a write is in flight share the next one.

use crate::durable_file::write_atomically;
use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use actix::prelude::*;
use ipnet::IpNet;
use tokio::sync::oneshot;

use crate::actors::directory::{ActorDirectory, Describe, Registration};
use crate::logic::ipam::{IpamError, PodAddresses};

/// Why the pool could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The allocation itself failed (for example, the block is full).
    #[error(transparent)]
    Ipam(#[from] IpamError),
    /// The pool could not be written to disk.
    #[error("could not persist the IP pool to {path}: {detail}")]
    Persist {
        /// The pool file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The pool file exists but cannot be read.
    #[error("the IP pool file {path} is unreadable: {detail}")]
    Load {
        /// The pool file.
        path: String,
        /// Why.
        detail: String,
    },
}

/// The address of pod `uid` (allocating one if needed; `preferred` is the address its zone
/// already has, if any).
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<IpAddr, PoolError>")]
pub struct AllocateIp {
    /// The pod uid.
    pub uid: String,
    /// An address the pod's zone is already configured with.
    pub preferred: Option<IpAddr>,
}

/// Gives pod `uid`'s address back.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<(), PoolError>")]
pub struct ReleaseIp {
    /// The pod uid.
    pub uid: String,
}

/// Frees every allocation whose uid is not in `keep` (start-up reconciliation); returns
/// what was freed.
#[derive(Message, Debug, Clone)]
#[rtype(result = "Result<Vec<(String, IpAddr)>, PoolError>")]
pub struct RetainIps {
    /// The uids that still exist (pods in the API, zones on the host).
    pub keep: HashSet<String>,
}

/// The node's pod address pool.
pub struct IpamPool {
    pool: PodAddresses,
    path: PathBuf,
    generation: u64,
    durable: u64,
    writing: bool,
    waiting: Vec<oneshot::Sender<Result<(), PoolError>>>,
    directory: ActorDirectory,
    node: String,
    registration: Option<Registration>,
}

impl IpamPool {
    /// The pool of `cidr`, continuing the one saved at `path` when it is for the same block.
    pub fn load(cidr: IpNet, path: &Path, node: &str, directory: ActorDirectory) -> Result<Self, PoolError> {
        let display = path.display().to_string();
        let pool = match std::fs::read(path) {
            Ok(bytes) => {
                let saved: PodAddresses = serde_json::from_slice(&bytes)
                    .map_err(|e| PoolError::Load { path: display.clone(), detail: e.to_string() })?;
                if saved.cidr() == cidr.trunc() {
                    saved
                } else {
                    tracing::warn!(saved = %saved.cidr(), now = %cidr, "the node's pod CIDR changed; starting a new pool");
                    PodAddresses::new(cidr)?
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => PodAddresses::new(cidr)?,
            Err(e) => return Err(PoolError::Load { path: display, detail: e.to_string() }),
        };
        Ok(Self {
            pool,
            path: path.to_path_buf(),
            generation: 0,
            durable: 0,
            writing: false,
            waiting: Vec::new(),
            directory,
            node: node.to_string(),
            registration: None,
        })
    }

    /// The pods' gateway (the block's first address).
    pub fn gateway(&self) -> IpAddr {
        self.pool.gateway()
    }

    fn publish(&self) {
        if let Some(r) = &self.registration {
            r.set_state(format!("{} allocated in {}", self.pool.allocations().len(), self.pool.cidr()));
        }
    }

    /// A future that resolves once everything so far is on disk.
    fn durable_future(&mut self, ctx: &mut Context<Self>) -> oneshot::Receiver<Result<(), PoolError>> {
        let (tx, rx) = oneshot::channel();
        if self.generation == self.durable {
            let _ = tx.send(Ok(()));
        } else {
            self.waiting.push(tx);
            self.flush(ctx);
        }
        rx
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        if self.writing || self.waiting.is_empty() {
            return;
        }
        self.writing = true;
        let generation = self.generation;
        let waiters = std::mem::take(&mut self.waiting);
        let bytes = serde_json::to_vec_pretty(&self.pool).unwrap_or_default();
        let path = self.path.clone();
        let write = tokio::task::spawn_blocking(move || write_atomically(&path, &bytes));
        let display = self.path.display().to_string();
        ctx.spawn(actix::fut::wrap_future::<_, Self>(write).map(move |result, this, ctx| {
            this.writing = false;
            let outcome = match result {
                Ok(Ok(())) => {
                    this.durable = this.durable.max(generation);
                    Ok(())
                }
                Ok(Err(e)) => Err(PoolError::Persist { path: display.clone(), detail: e.to_string() }),
                Err(e) => Err(PoolError::Persist { path: display.clone(), detail: e.to_string() }),
            };
            if let Err(error) = &outcome {
                tracing::error!(%error, "IP pool write failed");
            }
            for waiter in waiters {
                let _ = waiter.send(outcome.clone());
            }
            this.publish();
            this.flush(ctx);
        }));
    }
}

impl Actor for IpamPool {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1024);
        let registration =
            self.directory.register("IpamPool", self.node.clone(), 1, 0, Some(ctx.address().recipient()));
        self.registration = Some(registration);
        self.publish();
    }
}

impl Handler<Describe> for IpamPool {
    type Result = String;

    fn handle(&mut self, _: Describe, _: &mut Context<Self>) -> String {
        format!(
            "{} addresses allocated in {}; gateway {}; {} writes waiting",
            self.pool.allocations().len(),
            self.pool.cidr(),
            self.pool.gateway(),
            self.waiting.len()
        )
    }
}

impl Handler<AllocateIp> for IpamPool {
    type Result = ResponseFuture<Result<IpAddr, PoolError>>;

    fn handle(&mut self, message: AllocateIp, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(r) = &self.registration {
            r.handled();
        }
        let (ip, changed) = match self.pool.allocate(&message.uid, message.preferred) {
            Ok(result) => result,
            Err(error) => return Box::pin(async move { Err(PoolError::Ipam(error)) }),
        };
        if changed {
            self.generation += 1;
        }
        let durable = self.durable_future(ctx);
        Box::pin(async move {
            durable
                .await
                .unwrap_or_else(|_| Err(PoolError::Persist { path: String::new(), detail: "stopped".into() }))?;
            Ok(ip)
        })
    }
}

impl Handler<ReleaseIp> for IpamPool {
    type Result = ResponseFuture<Result<(), PoolError>>;

    fn handle(&mut self, message: ReleaseIp, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(r) = &self.registration {
            r.handled();
        }
        if self.pool.release(&message.uid) {
            self.generation += 1;
        }
        let durable = self.durable_future(ctx);
        Box::pin(async move {
            durable.await.unwrap_or_else(|_| Err(PoolError::Persist { path: String::new(), detail: "stopped".into() }))
        })
    }
}

impl Handler<RetainIps> for IpamPool {
    type Result = ResponseFuture<Result<Vec<(String, IpAddr)>, PoolError>>;

    fn handle(&mut self, message: RetainIps, ctx: &mut Context<Self>) -> Self::Result {
        let released = self.pool.retain(|uid| message.keep.contains(uid));
        if !released.is_empty() {
            self.generation += 1;
            tracing::info!(count = released.len(), "released the addresses of pods that no longer exist");
        }
        let durable = self.durable_future(ctx);
        Box::pin(async move {
            durable
                .await
                .unwrap_or_else(|_| Err(PoolError::Persist { path: String::new(), detail: "stopped".into() }))?;
            Ok(released)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[actix::test]
    async fn allocations_survive_a_restart_and_concurrent_callers_share_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ipam.json");
        let cidr: IpNet = "127.77.0.0/24".parse().unwrap();
        let directory = ActorDirectory::new(Clock::system());
        let pool = IpamPool::load(cidr, &path, "n1", directory.clone()).unwrap();
        assert_eq!(pool.gateway().to_string(), "127.77.0.1");
        let addr = pool.start();
        let requests: Vec<_> =
            (0..50).map(|i| addr.send(AllocateIp { uid: format!("uid-{i}"), preferred: None })).collect();
        let ips: Vec<IpAddr> =
            futures_util::future::join_all(requests).await.into_iter().map(|r| r.unwrap().unwrap()).collect();
        let distinct: HashSet<IpAddr> = ips.iter().copied().collect();
        assert_eq!(distinct.len(), 50, "no address given twice");
        assert_eq!(directory.snapshot(Some("IpamPool")).len(), 1);
        addr.send(ReleaseIp { uid: "uid-0".into() }).await.unwrap().unwrap();

        // A new pool (a restarted agent) has the same allocations, and keeps them per uid.
        let again = IpamPool::load(cidr, &path, "n1", directory.clone()).unwrap().start();
        let ip7 = again.send(AllocateIp { uid: "uid-7".into(), preferred: None }).await.unwrap().unwrap();
        assert_eq!(ip7, ips[7]);
        let released = again.send(RetainIps { keep: HashSet::from(["uid-7".to_string()]) }).await.unwrap().unwrap();
        assert_eq!(released.len(), 48);
        let saved: PodAddresses = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(saved.allocations().len(), 1);
        // Another block starts over.
        let other = IpamPool::load("10.0.0.0/24".parse().unwrap(), &path, "n1", directory).unwrap();
        assert_eq!(other.gateway().to_string(), "10.0.0.1");
    }
}
