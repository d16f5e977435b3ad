//! Binary or timeline: the kind of a semaphore shared between the APIs, as Vulkan creates
//! it and HIP imports it (both layers use it, so it lives beneath both).

/// The kind of a Vulkan semaphore, which HIP must be told on import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SemaphoreKind {
    /// `VK_SEMAPHORE_TYPE_BINARY`: signal/wait values are ignored.
    Binary,
    /// `VK_SEMAPHORE_TYPE_TIMELINE`: a signal sets the value, a wait waits for ≥ value.
    Timeline,
}
