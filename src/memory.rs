//! Returning freed heap to the operating system after a burst.
//!
//! The first full sync reads a year of vendor history: tens of megabytes of
//! JSON parsed, written and dropped within a second. glibc's allocator keeps
//! freed memory in its arenas for reuse, so the process would stay that
//! large for good although it needs a fraction of it from then on.

/// Hands the heap that is free after a burst back to the OS (glibc only;
/// elsewhere a no-op). Costs a millisecond or so; call it after bursts, not
/// per request.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers and only rearranges glibc's own
    // free lists; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Caps glibc's heaps (arenas) at two. By default each thread that
/// allocates may get an arena of its own, up to eight per core, and every
/// arena keeps its freed memory: the runtime's workers, the blocking pool
/// and SQLite's connection threads then hold megabytes each that no other
/// thread can reuse. Two arenas still let the two cores allocate without
/// waiting on each other. Call once, before any thread is started (glibc
/// only; elsewhere a no-op).
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt takes plain integers and changes glibc's allocator
    // settings; called before other threads exist, nothing races with it.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
