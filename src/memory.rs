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
