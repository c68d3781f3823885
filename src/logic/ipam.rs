//! IP address management, as pure data and functions.
//!
//! - **Node CIDRs** (control plane): the cluster CIDR is cut into per-node blocks of one
//!   prefix length (`/24` by default); [`allocate_node_cidr`] picks the first block that
//!   overlaps no taken one.
//! - **Pod addresses** (agent): [`PodAddresses`] hands out addresses from a node's block,
//!   one per pod uid, idempotently. The first host address is the node's gateway (the
//!   global zone's VNIC on the pods' etherstub); the network and IPv4 broadcast addresses
//!   are never given out. Allocation moves round-robin from the last address given, so a
//!   just-released address is not reused at once. The whole pool serialises to JSON, so the
//!   agent can persist it before using an address.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The most per-node blocks (or addresses) a search will walk; larger spaces are refused
/// rather than scanned (`2^20`).
const MAX_SCAN: u128 = 1 << 20;

/// Why an address or block cannot be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// Every block or address is taken.
    #[error("no free {what} left in {cidr}")]
    Exhausted {
        /// `node CIDR` or `pod address`.
        what: &'static str,
        /// The range that is full.
        cidr: IpNet,
    },
    /// The prefix lengths do not fit together.
    #[error("cannot cut {cidr} into /{prefix_len} blocks: {reason}")]
    InvalidPrefix {
        /// The range.
        cidr: IpNet,
        /// The requested prefix length.
        prefix_len: u8,
        /// Why not.
        reason: &'static str,
    },
}

/// The first per-node block of `cluster` (cut into `/node_prefix` blocks) that overlaps
/// none of `taken`.
pub fn allocate_node_cidr(cluster: IpNet, node_prefix: u8, taken: &BTreeSet<IpNet>) -> Result<IpNet, IpamError> {
    let invalid = |reason| IpamError::InvalidPrefix { cidr: cluster, prefix_len: node_prefix, reason };
    if node_prefix < cluster.prefix_len() {
        return Err(invalid("the node prefix is shorter than the cluster's"));
    }
    if node_prefix > cluster.max_prefix_len().saturating_sub(2) {
        return Err(invalid("a node block must hold at least four addresses"));
    }
    if u128::from(node_prefix - cluster.prefix_len()) > u128::from(MAX_SCAN.trailing_zeros()) {
        return Err(invalid("too many node blocks to search"));
    }
    let cluster = cluster.trunc();
    let subnets = cluster.subnets(node_prefix).map_err(|_| invalid("not a valid prefix length"))?;
    subnets
        .into_iter()
        .find(|block| !taken.iter().any(|t| t.contains(block) || block.contains(t)))
        .ok_or(IpamError::Exhausted { what: "node CIDR", cidr: cluster })
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

/// The pod addresses of one node: its block and who holds what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodAddresses {
    cidr: IpNet,
    allocations: BTreeMap<String, IpAddr>,
    #[serde(default)]
    last: Option<IpAddr>,
}

impl PodAddresses {
    /// An empty pool over `cidr` (at least four addresses).
    pub fn new(cidr: IpNet) -> Result<Self, IpamError> {
        if cidr.prefix_len() > cidr.max_prefix_len().saturating_sub(2) {
            return Err(IpamError::InvalidPrefix {
                cidr,
                prefix_len: cidr.prefix_len(),
                reason: "a pod network must hold at least four addresses",
            });
        }
        Ok(Self { cidr: cidr.trunc(), allocations: BTreeMap::new(), last: None })
    }

    /// The block.
    pub fn cidr(&self) -> IpNet {
        self.cidr
    }

    /// The gateway: the block's first host address.
    pub fn gateway(&self) -> IpAddr {
        from_u128(to_u128(self.cidr.network()) + 1, self.cidr.network().is_ipv4())
    }

    /// The address `uid` holds.
    pub fn get(&self, uid: &str) -> Option<IpAddr> {
        self.allocations.get(uid).copied()
    }

    /// Every allocation, by uid.
    pub fn allocations(&self) -> &BTreeMap<String, IpAddr> {
        &self.allocations
    }

    fn usable(&self, ip: IpAddr) -> bool {
        let v4 = self.cidr.network().is_ipv4();
        self.cidr.contains(&ip)
            && ip != self.cidr.network()
            && ip != self.gateway()
            && !(v4 && ip == self.cidr.broadcast())
    }

    /// The address of `uid`: the one it already holds; else `preferred` when it is usable
    /// and free (an address a zone already has); else the next free one after the last
    /// given. Returns the address and whether the pool changed.
    pub fn allocate(&mut self, uid: &str, preferred: Option<IpAddr>) -> Result<(IpAddr, bool), IpamError> {
        if let Some(ip) = self.get(uid) {
            return Ok((ip, false));
        }
        let taken: BTreeSet<IpAddr> = self.allocations.values().copied().collect();
        if let Some(ip) = preferred.filter(|ip| self.usable(*ip) && !taken.contains(ip)) {
            return Ok((self.take(uid, ip), true));
        }
        let v4 = self.cidr.network().is_ipv4();
        let base = to_u128(self.cidr.network());
        let size = 1u128 << u32::from(self.cidr.max_prefix_len() - self.cidr.prefix_len()).min(127);
        let start = self.last.map_or(0, |last| to_u128(last).saturating_sub(base) + 1);
        for n in 0..size.min(MAX_SCAN) {
            let ip = from_u128(base + (start + n) % size, v4);
            if self.usable(ip) && !taken.contains(&ip) {
                return Ok((self.take(uid, ip), true));
            }
        }
        Err(IpamError::Exhausted { what: "pod address", cidr: self.cidr })
    }

    fn take(&mut self, uid: &str, ip: IpAddr) -> IpAddr {
        self.allocations.insert(uid.to_string(), ip);
        self.last = Some(ip);
        ip
    }

    /// Gives `uid`'s address back; false when it held none.
    pub fn release(&mut self, uid: &str) -> bool {
        self.allocations.remove(uid).is_some()
    }

    /// Releases every allocation whose uid `keep` rejects; returns what was released.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> Vec<(String, IpAddr)> {
        let gone: Vec<(String, IpAddr)> =
            self.allocations.iter().filter(|(uid, _)| !keep(uid)).map(|(u, ip)| (u.clone(), *ip)).collect();
        for (uid, _) in &gone {
            self.allocations.remove(uid);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    #[test]
    fn node_blocks_are_cut_in_order_around_taken_ones() {
        let cluster = net("10.88.0.0/16");
        let mut taken = BTreeSet::new();
        assert_eq!(allocate_node_cidr(cluster, 24, &taken).unwrap(), net("10.88.0.0/24"));
        taken.insert(net("10.88.0.0/24"));
        taken.insert(net("10.88.1.128/25"));
        assert_eq!(allocate_node_cidr(cluster, 24, &taken).unwrap(), net("10.88.2.0/24"));
        // A larger taken block covers several node blocks.
        let taken = BTreeSet::from([net("10.88.0.0/23")]);
        assert_eq!(allocate_node_cidr(cluster, 24, &taken).unwrap(), net("10.88.2.0/24"));
        // Host bits in the cluster CIDR are ignored.
        assert_eq!(allocate_node_cidr(net("127.77.3.9/16"), 24, &BTreeSet::new()).unwrap(), net("127.77.0.0/24"));
    }

    #[test]
    fn an_exhausted_cluster_and_bad_prefixes_are_errors() {
        let cluster = net("10.0.0.0/23");
        let taken = BTreeSet::from([net("10.0.0.0/24"), net("10.0.1.0/24")]);
        let error = allocate_node_cidr(cluster, 24, &taken).unwrap_err();
        assert_eq!(error, IpamError::Exhausted { what: "node CIDR", cidr: cluster });
        assert_eq!(error.to_string(), "no free node CIDR left in 10.0.0.0/23");
        assert!(matches!(allocate_node_cidr(cluster, 22, &taken), Err(IpamError::InvalidPrefix { .. })));
        assert!(matches!(allocate_node_cidr(cluster, 31, &taken), Err(IpamError::InvalidPrefix { .. })));
        assert!(matches!(allocate_node_cidr(net("fd00::/32"), 64, &taken), Err(IpamError::InvalidPrefix { .. })));
        assert_eq!(allocate_node_cidr(net("fd00::/48"), 64, &BTreeSet::new()).unwrap(), net("fd00::/64"));
    }

    #[test]
    fn pod_addresses_skip_network_gateway_and_broadcast_and_are_idempotent_per_uid() {
        let mut pool = PodAddresses::new(net("127.77.0.0/29")).unwrap();
        assert_eq!(pool.gateway().to_string(), "127.77.0.1");
        let mut given = Vec::new();
        for uid in ["a", "b", "c", "d", "e"] {
            given.push(pool.allocate(uid, None).unwrap().0.to_string());
        }
        assert_eq!(given, ["127.77.0.2", "127.77.0.3", "127.77.0.4", "127.77.0.5", "127.77.0.6"]);
        assert_eq!(pool.allocate("c", None).unwrap(), ("127.77.0.4".parse().unwrap(), false));
        let error = pool.allocate("f", None).unwrap_err();
        assert_eq!(error.to_string(), "no free pod address left in 127.77.0.0/29");
        assert!(pool.release("b"));
        assert!(!pool.release("b"));
        assert_eq!(pool.allocate("f", None).unwrap().0.to_string(), "127.77.0.3");
    }

    #[test]
    fn allocation_is_round_robin_and_honours_a_free_preferred_address() {
        let mut pool = PodAddresses::new(net("10.1.0.0/24")).unwrap();
        pool.allocate("a", None).unwrap();
        pool.allocate("b", None).unwrap();
        pool.release("a");
        // .2 was just released: the next one is .4, not .2.
        assert_eq!(pool.allocate("c", None).unwrap().0.to_string(), "10.1.0.4");
        // A zone that already has .50 keeps it; an unusable or taken preference is ignored.
        assert_eq!(pool.allocate("z", Some("10.1.0.50".parse().unwrap())).unwrap().0.to_string(), "10.1.0.50");
        assert_eq!(pool.allocate("y", Some("10.1.0.50".parse().unwrap())).unwrap().0.to_string(), "10.1.0.51");
        assert_eq!(pool.allocate("x", Some("10.1.0.1".parse().unwrap())).unwrap().0.to_string(), "10.1.0.52");
        assert_eq!(pool.allocate("w", Some("10.2.0.9".parse().unwrap())).unwrap().0.to_string(), "10.1.0.53");
    }

    #[test]
    fn retain_releases_the_dead_and_the_pool_round_trips_through_json() {
        let mut pool = PodAddresses::new(net("10.1.0.0/24")).unwrap();
        for uid in ["keep", "drop1", "drop2"] {
            pool.allocate(uid, None).unwrap();
        }
        let released = pool.retain(|uid| uid == "keep");
        assert_eq!(released.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(), ["drop1", "drop2"]);
        let json = serde_json::to_string(&pool).unwrap();
        let back: PodAddresses = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pool);
        assert_eq!(back.allocations().len(), 1);
        assert!(PodAddresses::new(net("10.1.0.0/31")).is_err());
        let v6 = PodAddresses::new(net("fd00::/120")).unwrap().allocate("a", None).unwrap().0;
        assert_eq!(v6.to_string(), "fd00::2");
    }
}
