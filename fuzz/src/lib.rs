//! What the fuzz targets of the service share: a catalog with an admin and
//! a portal, and the service's state over it.

use std::sync::Arc;

/// The service over a fresh catalog in a temporary folder.
pub struct Service {
    /// The catalog's folder (removed when dropped).
    pub dir: tempfile::TempDir,
    /// The service's state over the catalog.
    pub state: Arc<g2a_server::AppState>,
    /// A runtime to drive the router on.
    pub rt: tokio::runtime::Runtime,
}

/// Creates a catalog with the admin and portal `acme`, lets `setup` add
/// what a target needs as the admin, and opens the service's state over
/// it. Returns the service and what `setup` returned.
pub fn service<T>(
    setup: impl FnOnce(&g2a_catalog::Catalog, &g2a_catalog::Actor) -> T,
) -> (Service, T) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cat");
    let pw = "fuzz-admin-pw-Vq8#Lw2!pZ";
    let catalog = g2a_catalog::Catalog::create(
        &path,
        "admin",
        pw,
        g2a_catalog::CatalogOptions::insecure_fast_for_tests(),
    )
    .unwrap();
    let admin = catalog.login("admin", pw).unwrap();
    catalog.add_portal(&admin, "acme", None).unwrap();
    let made = setup(&catalog, &admin);
    let state = g2a_server::AppState::open(&path, g2a_server::ServiceOptions::default()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (Service { dir, state, rt }, made)
}
