//! Zone brands: how a pod asks for one (the `reddwarf.io/zone-brand` annotation), how a
//! node says which it runs (the `reddwarf.io/zone-brands` label), and which brands exist on
//! the illumos distributions Reddwarf targets (OmniOS, OpenIndiana, SmartOS; see the
//! illumos reference §0.2 and §9). A pod asking for a brand no distribution has is invalid.

/// The annotation by which a pod asks for a zone brand.
pub const BRAND_ANNOTATION: &str = "reddwarf.io/zone-brand";
/// The node label listing the zone brands a node can run (comma-separated).
pub const BRANDS_LABEL: &str = "reddwarf.io/zone-brands";
/// The brand a pod gets when it asks for none (OmniOS's default).
pub const DEFAULT_BRAND: &str = "lipkg";
/// Every brand a supported distribution provides.
pub const KNOWN_BRANDS: &[&str] = &[
    "lipkg",
    "ipkg",
    "sparse",
    "pkgsrc",
    "lx",
    "bhyve",
    "kvm",
    "illumos",
    "emu",
    "nlipkg",
    "joyent",
    "joyent-minimal",
];

/// Whether `brand` exists on some supported distribution.
pub fn is_known_brand(brand: &str) -> bool {
    KNOWN_BRANDS.contains(&brand)
}
