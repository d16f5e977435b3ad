// HIP-on-CUDA shim: the HIP entry points the demo's Rust side loads
// (src/hip/ffi.rs, `hip_api!`), implemented on the CUDA runtime and driver
// APIs, built as a shared library named libamdhip64.so.
//
// Why: HIP on NVIDIA is header-only (there is no libamdhip64 to load), and
// HIP's own NVIDIA headers do not compile against CUDA 13 (measured on the H100,
// CUDA 13.0, with Debian's HIP 5.2.3 headers and hipother of late 2023; upstream:
// https://github.com/ROCm/rocm-systems/pull/775, hipother build errors from CUDA 13's
// cudaMemPrefetchAsync/cudaMemAdvise signatures). So this file
// includes NO HIP header: the few HIP types it needs are declared below, with
// the layouts the Rust side passes (pinned by static_asserts here and by the
// unit tests in src/hip/ffi.rs).
//
// Build (scripts/build-nvidia.sh does this):
//   nvcc -shared -O2 -Xcompiler -fPIC -Xlinker --version-script=exports.map \
//        -o libamdhip64.so shim.cpp -lcuda
// nvcc links the CUDA runtime statically, so the result needs only libcuda.
// exports.map keeps every symbol but the ones below local.
//
// Windows (scripts/build-nvidia.ps1 does this, from a "x64 Native Tools" prompt):
//   nvcc -shared -O2 -o amdhip64.dll shim.cpp cuda.lib
// HIP_SHIM_EXPORT marks the exports there (__declspec(dllexport)). The Windows branches
// (`_WIN32`) take NT and KMT handles instead of fds; they have not been compiled by
// nvcc (no Windows machine with CUDA was available), only the Linux build has.
//
// Error codes: HIP chose CUDA's values for the codes it shares with CUDA, so
// the codes in kKnownCodes pass through unchanged, whether they come from the
// runtime (cudaError_t) or the driver (CUresult). Any other CUDA code becomes
// hipErrorUnknown (999), and the original is printed to stderr. Evidence: tests/hip_abi.rs
// checks these values against the installed HIP header; on the H100 a garbage image came
// back from cuModuleLoadData as 200, hipErrorInvalidImage (measured, 2026-11).
//
// Keep this file as small as the Rust side's table: one function here per
// entry in `hip_api!` and `hip_optional_api!`, plus the marker hip_vulkan_sinewave_nvidia_shim.

#include <cuda.h>
#include <cuda_runtime_api.h>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#ifdef _WIN32
#define HIP_SHIM_EXPORT extern "C" __declspec(dllexport)
#else
#define HIP_SHIM_EXPORT extern "C" __attribute__((visibility("default")))
#endif

// ---- the HIP types, declared here (no HIP header) --------------------------

typedef int hipError_t;
typedef int hipDevice_t;
typedef cudaStream_t hipStream_t;
typedef cudaEvent_t hipEvent_t;
typedef CUmodule hipModule_t;
typedef CUfunction hipFunction_t;
typedef cudaExternalMemory_t hipExternalMemory_t;
typedef cudaExternalSemaphore_t hipExternalSemaphore_t;

struct hipUUID {
    char bytes[16];
};

enum : int {
    hipSuccess = 0,
    hipErrorInvalidValue = 1,
    hipErrorOutOfMemory = 2,
    hipErrorNotInitialized = 3,
    hipErrorDeinitialized = 4,
    hipErrorInsufficientDriver = 35,
    hipErrorInvalidDeviceFunction = 98,
    hipErrorNoDevice = 100,
    hipErrorInvalidDevice = 101,
    hipErrorInvalidImage = 200,
    hipErrorInvalidContext = 201,
    hipErrorNoBinaryForGpu = 209,
    hipErrorInvalidKernelFile = 218,
    hipErrorInvalidHandle = 400,
    hipErrorNotFound = 500,
    hipErrorNotReady = 600,
    hipErrorIllegalAddress = 700,
    hipErrorLaunchFailure = 719,
    hipErrorNotSupported = 801,
    hipErrorUnknown = 999,
};

// hipDeviceAttribute_t values the Rust side asks for.
enum : int {
    hipDeviceAttributeComputeCapabilityMajor = 23,
    hipDeviceAttributeComputeCapabilityMinor = 61,
    hipDeviceAttributePciBusId = 67,
    hipDeviceAttributePciDeviceId = 68,
    hipDeviceAttributePciDomainID = 69,
};

enum : unsigned {
    hipExternalMemoryHandleTypeOpaqueFd = 1,
    hipExternalMemoryHandleTypeOpaqueWin32 = 2,
    hipExternalMemoryHandleTypeOpaqueWin32Kmt = 3,
    hipExternalMemoryDedicated = 1,
    hipExternalSemaphoreHandleTypeOpaqueFd = 1,
    hipExternalSemaphoreHandleTypeOpaqueWin32 = 2,
    hipExternalSemaphoreHandleTypeOpaqueWin32Kmt = 3,
    hipExternalSemaphoreHandleTypeTimelineSemaphoreFd = 9,
    hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32 = 10,
};

union hipExternalHandle {
    int fd;
    struct {
        void* handle;
        const void* name;
    } win32;
};

struct hipExternalMemoryHandleDesc {
    unsigned type;
    hipExternalHandle handle;
    unsigned long long size;
    unsigned flags;
    unsigned reserved[16];
};

struct hipExternalMemoryBufferDesc {
    unsigned long long offset;
    unsigned long long size;
    unsigned flags;
    unsigned reserved[16];
};

struct hipExternalSemaphoreHandleDesc {
    unsigned type;
    hipExternalHandle handle;
    unsigned flags;
    unsigned reserved[16];
};

// The signal/wait parameters as the Rust side passes them (ffi.rs,
// ExternalSemaphoreSignalWaitParams): fence.value at 0, nvSciSync at 8,
// keyedMutex at 16, flags at 72, 144 bytes. HIP versions disagree on this
// struct (AMD headers before ROCm 6.0 have no nvSciSync member, so keyedMutex and flags
// move: ROCm/HIP commit 400af522e added it), and CUDA's has its own definition: the
// functions below COPY FIELD BY FIELD into CUDA's struct and never cast one to the other.
struct hipExternalSemaphoreSignalWaitParams {
    struct {
        struct {
            unsigned long long value;
        } fence;
        unsigned long long nvSciSync;
        struct {
            unsigned long long key;
            unsigned timeoutMs;
        } keyedMutex;
        unsigned reserved[10];
    } params;
    unsigned flags;
    unsigned reserved[16];
};

// The values and sizes above against CUDA's own headers: the HIP headers of
// ROCm < 6 lack the timeline type, the dedicated flag and the reserved tails, so
// CUDA is the outside source for them (tests/hip_abi.rs checks that ffi.rs
// declares what this file declares).
static_assert((int)hipExternalMemoryHandleTypeOpaqueFd == (int)cudaExternalMemoryHandleTypeOpaqueFd,
              "memory handle type");
static_assert((int)hipExternalMemoryDedicated == (int)cudaExternalMemoryDedicated, "dedicated flag");
static_assert((int)hipExternalSemaphoreHandleTypeOpaqueFd == (int)cudaExternalSemaphoreHandleTypeOpaqueFd,
              "binary semaphore handle type");
static_assert((int)hipExternalSemaphoreHandleTypeTimelineSemaphoreFd ==
                  (int)cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd,
              "timeline semaphore handle type");
static_assert((int)hipExternalMemoryHandleTypeOpaqueWin32 == (int)cudaExternalMemoryHandleTypeOpaqueWin32,
              "win32 memory handle type");
static_assert((int)hipExternalMemoryHandleTypeOpaqueWin32Kmt == (int)cudaExternalMemoryHandleTypeOpaqueWin32Kmt,
              "win32 kmt memory handle type");
static_assert((int)hipExternalSemaphoreHandleTypeOpaqueWin32 == (int)cudaExternalSemaphoreHandleTypeOpaqueWin32,
              "win32 semaphore handle type");
static_assert((int)hipExternalSemaphoreHandleTypeOpaqueWin32Kmt ==
                  (int)cudaExternalSemaphoreHandleTypeOpaqueWin32Kmt,
              "win32 kmt semaphore handle type");
static_assert((int)hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32 ==
                  (int)cudaExternalSemaphoreHandleTypeTimelineSemaphoreWin32,
              "win32 timeline semaphore handle type");
static_assert(sizeof(hipExternalMemoryHandleDesc) == sizeof(cudaExternalMemoryHandleDesc), "memory desc");
static_assert(sizeof(hipExternalMemoryBufferDesc) == sizeof(cudaExternalMemoryBufferDesc), "buffer desc");
static_assert(sizeof(hipExternalSemaphoreHandleDesc) == sizeof(cudaExternalSemaphoreHandleDesc),
              "semaphore desc");
static_assert(sizeof(hipExternalSemaphoreSignalWaitParams) == sizeof(cudaExternalSemaphoreSignalParams),
              "signal params");
static_assert(sizeof(hipExternalSemaphoreSignalWaitParams) == sizeof(cudaExternalSemaphoreWaitParams),
              "wait params");
static_assert(sizeof(hipUUID) == 16, "hipUUID");
static_assert(sizeof(hipExternalMemoryHandleDesc) == 104, "memory handle desc size");
static_assert(offsetof(hipExternalMemoryHandleDesc, size) == 24, "memory desc size field");
static_assert(offsetof(hipExternalMemoryHandleDesc, flags) == 32, "memory desc flags field");
static_assert(sizeof(hipExternalMemoryBufferDesc) == 88, "buffer desc size");
static_assert(sizeof(hipExternalSemaphoreHandleDesc) == 96, "semaphore desc size");
static_assert(offsetof(hipExternalSemaphoreHandleDesc, flags) == 24, "semaphore desc flags");
static_assert(sizeof(hipExternalSemaphoreSignalWaitParams) == 144, "signal/wait params size");
static_assert(offsetof(hipExternalSemaphoreSignalWaitParams, params.keyedMutex) == 16,
              "keyedMutex offset");
static_assert(offsetof(hipExternalSemaphoreSignalWaitParams, flags) == 72, "flags offset");

// The virtual memory management types (hipMemCreate and friends), in the layout of
// HIP >= 5.3, which is CUDA's field order (ffi.rs, MemAllocationProp). Translated field by
// field into CUDA's structs below all the same. The generic handle is a pointer in HIP and
// an unsigned long long in CUDA: the shim carries the CUDA value in the pointer.
typedef void* hipMemGenericAllocationHandle_t;

enum : int {
    hipMemHandleTypePosixFileDescriptor = 1,
    hipMemHandleTypeWin32 = 2,
    hipMemAllocationTypePinned = 1,
    hipMemLocationTypeDevice = 1,
    hipMemAccessFlagsProtReadWrite = 3,
    hipMemAllocationGranularityMinimum = 0,
};

struct hipMemLocation {
    int type;
    int id;
};

struct hipMemAllocationProp {
    int type;
    int requestedHandleTypes;
    hipMemLocation location;
    void* win32HandleMetaData;
    struct {
        unsigned char compressionType;
        unsigned char gpuDirectRDMACapable;
        unsigned short usage;
        unsigned char reserved[4];
    } allocFlags;
};

struct hipMemAccessDesc {
    hipMemLocation location;
    int flags;
};

static_assert((int)hipMemHandleTypePosixFileDescriptor == (int)CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
              "posix fd handle type");
static_assert((int)hipMemHandleTypeWin32 == (int)CU_MEM_HANDLE_TYPE_WIN32, "win32 handle type");
static_assert((int)hipMemAllocationTypePinned == (int)CU_MEM_ALLOCATION_TYPE_PINNED, "pinned allocation type");
static_assert((int)hipMemLocationTypeDevice == (int)CU_MEM_LOCATION_TYPE_DEVICE, "device location type");
static_assert((int)hipMemAccessFlagsProtReadWrite == (int)CU_MEM_ACCESS_FLAGS_PROT_READWRITE, "read-write access");
static_assert((int)hipMemAllocationGranularityMinimum == (int)CU_MEM_ALLOC_GRANULARITY_MINIMUM, "granularity");
static_assert(sizeof(hipMemAllocationProp) == sizeof(CUmemAllocationProp), "allocation prop size");
static_assert(sizeof(hipMemAllocationProp) == 32, "allocation prop size");
static_assert(offsetof(hipMemAllocationProp, requestedHandleTypes) ==
                  offsetof(CUmemAllocationProp, requestedHandleTypes),
              "handle types offset");
static_assert(offsetof(hipMemAllocationProp, location) == offsetof(CUmemAllocationProp, location),
              "location offset");
static_assert(offsetof(hipMemAllocationProp, win32HandleMetaData) ==
                  offsetof(CUmemAllocationProp, win32HandleMetaData),
              "win32 metadata offset");
static_assert(offsetof(hipMemAllocationProp, allocFlags) == offsetof(CUmemAllocationProp, allocFlags),
              "flags offset");
static_assert(sizeof(hipMemLocation) == sizeof(CUmemLocation), "location size");
static_assert(sizeof(hipMemAccessDesc) == sizeof(CUmemAccessDesc), "access desc size");
static_assert(offsetof(hipMemAccessDesc, flags) == offsetof(CUmemAccessDesc, flags), "access flags offset");
static_assert(sizeof(hipMemGenericAllocationHandle_t) >= sizeof(CUmemGenericAllocationHandle),
              "a CUDA allocation handle fits in HIP's");

// Image interop: a Vulkan image's memory mapped as a mipmapped array and written through a
// surface object, in HIP's layouts (ffi.rs: ExternalMemoryMipmappedArrayDesc, 64 bytes, and
// ResourceDesc, 64 bytes); CUDA's own structs are larger (reserved tails), so the functions
// below copy field by field.
enum : int {
    hipChannelFormatKindFloat = 2,
    hipArraySurfaceLoadStore = 2,
    hipResourceTypeArray = 0,
};

struct hipChannelFormatDesc {
    int x;
    int y;
    int z;
    int w;
    int f;
};

struct hipExtent {
    size_t width;
    size_t height;
    size_t depth;
};

struct hipExternalMemoryMipmappedArrayDesc {
    unsigned long long offset;
    hipChannelFormatDesc formatDesc;
    hipExtent extent;
    unsigned flags;
    unsigned numLevels;
};

struct hipResourceDesc {
    int resType;
    union {
        struct {
            void* array;
        } array;
        unsigned char bytes[56];
    } res;
};

static_assert((int)hipChannelFormatKindFloat == (int)cudaChannelFormatKindFloat, "float channel kind");
static_assert((int)hipArraySurfaceLoadStore == (int)cudaArraySurfaceLoadStore, "surface load/store flag");
static_assert((int)hipResourceTypeArray == (int)cudaResourceTypeArray, "array resource type");
static_assert(sizeof(hipChannelFormatDesc) == sizeof(cudaChannelFormatDesc), "channel format desc");
static_assert(sizeof(hipExtent) == sizeof(cudaExtent), "extent");
static_assert(sizeof(hipExternalMemoryMipmappedArrayDesc) == 64, "mipmapped array desc (HIP's size)");
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, extent) == 32, "extent offset");
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, numLevels) == 60, "numLevels offset");
// HIP's descriptor is CUDA's without the reserved tail: every field at CUDA's offset.
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, formatDesc) ==
                  offsetof(cudaExternalMemoryMipmappedArrayDesc, formatDesc),
              "formatDesc offset (CUDA)");
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, extent) ==
                  offsetof(cudaExternalMemoryMipmappedArrayDesc, extent),
              "extent offset (CUDA)");
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, flags) ==
                  offsetof(cudaExternalMemoryMipmappedArrayDesc, flags),
              "flags offset (CUDA)");
static_assert(offsetof(hipExternalMemoryMipmappedArrayDesc, numLevels) ==
                  offsetof(cudaExternalMemoryMipmappedArrayDesc, numLevels),
              "numLevels offset (CUDA)");
static_assert(offsetof(hipResourceDesc, res.array.array) == offsetof(cudaResourceDesc, res.array.array),
              "res.array.array offset (CUDA)");
static_assert(sizeof(hipResourceDesc) == 64, "resource desc (HIP's size)");
static_assert(offsetof(hipResourceDesc, res) == 8, "resource union offset");
static_assert(sizeof(cudaSurfaceObject_t) == sizeof(unsigned long long), "surface object is 64-bit");

// ---- error codes -----------------------------------------------------------

struct CodeInfo {
    int code;
    const char* name;
    const char* text;
};

static const CodeInfo kKnownCodes[] = {
    {hipSuccess, "hipSuccess", "no error"},
    {hipErrorInvalidValue, "hipErrorInvalidValue", "invalid argument"},
    {hipErrorOutOfMemory, "hipErrorOutOfMemory", "out of memory"},
    {hipErrorNotInitialized, "hipErrorNotInitialized", "initialization error"},
    {hipErrorDeinitialized, "hipErrorDeinitialized", "driver shutting down"},
    {hipErrorInsufficientDriver, "hipErrorInsufficientDriver",
     "CUDA driver version is insufficient for the CUDA runtime"},
    {hipErrorInvalidDeviceFunction, "hipErrorInvalidDeviceFunction", "invalid device function"},
    {hipErrorNoDevice, "hipErrorNoDevice", "no CUDA-capable device is detected"},
    {hipErrorInvalidDevice, "hipErrorInvalidDevice", "invalid device ordinal"},
    {hipErrorInvalidImage, "hipErrorInvalidImage", "device kernel image is invalid"},
    {hipErrorInvalidContext, "hipErrorInvalidContext", "invalid device context"},
    {hipErrorNoBinaryForGpu, "hipErrorNoBinaryForGpu",
     "no kernel image is available for execution on the device"},
    {hipErrorInvalidKernelFile, "hipErrorInvalidKernelFile", "PTX JIT compilation failed"},
    {hipErrorInvalidHandle, "hipErrorInvalidHandle", "invalid resource handle"},
    {hipErrorNotFound, "hipErrorNotFound", "named symbol not found"},
    {hipErrorNotReady, "hipErrorNotReady", "device not ready"},
    {hipErrorIllegalAddress, "hipErrorIllegalAddress", "an illegal memory access was encountered"},
    {hipErrorLaunchFailure, "hipErrorLaunchFailure", "unspecified launch failure"},
    {hipErrorNotSupported, "hipErrorNotSupported", "operation not supported"},
    {hipErrorUnknown, "hipErrorUnknown", "unknown error"},
};

static const CodeInfo* find_code(int code) {
    for (const CodeInfo& info : kKnownCodes) {
        if (info.code == code) {
            return &info;
        }
    }
    return nullptr;
}

// A CUDA status (runtime or driver: they agree on the shared values) as a HIP code.
static hipError_t to_hip(const char* call, int cuda_code) {
    if (find_code(cuda_code) != nullptr) {
        return cuda_code;
    }
    std::fprintf(stderr, "hip shim: %s: CUDA error %d has no HIP equivalent here; "
                         "reported as hipErrorUnknown\n", call, cuda_code);
    return hipErrorUnknown;
}

static hipError_t check(const char* call, cudaError_t e) { return to_hip(call, (int)e); }
static hipError_t check(const char* call, CUresult e) { return to_hip(call, (int)e); }

// Driver-API calls need a current context: make the runtime's primary
// context current (cudaFree(0) initialises it), as runtime calls would.
static hipError_t ensure_context(const char* call) {
    return check(call, cudaFree(nullptr));
}

// ---- identification ------------------------------------------------------

// Marker the Rust side looks for (ffi::NVIDIA_SHIM_MARKER). Returns the CUDA
// driver version, or 0.
HIP_SHIM_EXPORT int hip_vulkan_sinewave_nvidia_shim(void) {
    int version = 0;
    if (cudaDriverGetVersion(&version) != cudaSuccess) {
        return 0;
    }
    return version;
}

// ---- errors and versions ---------------------------------------------------

HIP_SHIM_EXPORT const char* hipGetErrorName(hipError_t error) {
    const CodeInfo* info = find_code(error);
    return info != nullptr ? info->name : "hipErrorUnknown";
}

HIP_SHIM_EXPORT const char* hipGetErrorString(hipError_t error) {
    const CodeInfo* info = find_code(error);
    return info != nullptr ? info->text : "unknown error";
}

HIP_SHIM_EXPORT hipError_t hipRuntimeGetVersion(int* version) {
    return check("hipRuntimeGetVersion", cudaRuntimeGetVersion(version));
}

HIP_SHIM_EXPORT hipError_t hipDriverGetVersion(int* version) {
    return check("hipDriverGetVersion", cudaDriverGetVersion(version));
}

// ---- devices ---------------------------------------------------------------

HIP_SHIM_EXPORT hipError_t hipGetDeviceCount(int* count) {
    return check("hipGetDeviceCount", cudaGetDeviceCount(count));
}

HIP_SHIM_EXPORT hipError_t hipSetDevice(int ordinal) {
    return check("hipSetDevice", cudaSetDevice(ordinal));
}

HIP_SHIM_EXPORT hipError_t hipDeviceGet(hipDevice_t* device, int ordinal) {
    CUresult e = cuInit(0);
    if (e != CUDA_SUCCESS) {
        return check("hipDeviceGet", e);
    }
    CUdevice d = 0;
    e = cuDeviceGet(&d, ordinal);
    if (e == CUDA_SUCCESS) {
        *device = (hipDevice_t)d;
    }
    return check("hipDeviceGet", e);
}

HIP_SHIM_EXPORT hipError_t hipDeviceGetName(char* name, int len, hipDevice_t device) {
    CUresult e = cuInit(0);
    if (e == CUDA_SUCCESS) {
        e = cuDeviceGetName(name, len, (CUdevice)device);
    }
    return check("hipDeviceGetName", e);
}

HIP_SHIM_EXPORT hipError_t hipDeviceGetUuid(hipUUID* uuid, hipDevice_t device) {
    CUresult e = cuInit(0);
    CUuuid u;
    if (e == CUDA_SUCCESS) {
        e = cuDeviceGetUuid(&u, (CUdevice)device);
    }
    if (e == CUDA_SUCCESS) {
        std::memcpy(uuid->bytes, u.bytes, sizeof(uuid->bytes));
    }
    return check("hipDeviceGetUuid", e);
}

HIP_SHIM_EXPORT hipError_t hipDeviceGetAttribute(int* value, int attribute, int ordinal) {
    cudaDeviceAttr attr;
    switch (attribute) {
        case hipDeviceAttributeComputeCapabilityMajor:
            attr = cudaDevAttrComputeCapabilityMajor;
            break;
        case hipDeviceAttributeComputeCapabilityMinor:
            attr = cudaDevAttrComputeCapabilityMinor;
            break;
        case hipDeviceAttributePciBusId:
            attr = cudaDevAttrPciBusId;
            break;
        case hipDeviceAttributePciDeviceId:
            attr = cudaDevAttrPciDeviceId;
            break;
        case hipDeviceAttributePciDomainID:
            attr = cudaDevAttrPciDomainId;
            break;
        default:
            // Not needed by the demo; add a mapping here when it is.
            return hipErrorInvalidValue;
    }
    return check("hipDeviceGetAttribute", cudaDeviceGetAttribute(value, attr, ordinal));
}

HIP_SHIM_EXPORT hipError_t hipDeviceSynchronize(void) {
    return check("hipDeviceSynchronize", cudaDeviceSynchronize());
}

// ---- streams and events ----------------------------------------------------
// HIP's stream and event flag values equal CUDA's (NonBlocking 1;
// BlockingSync 1, DisableTiming 2, Interprocess 4).

HIP_SHIM_EXPORT hipError_t hipStreamCreateWithFlags(hipStream_t* stream, unsigned flags) {
    return check("hipStreamCreateWithFlags", cudaStreamCreateWithFlags(stream, flags));
}

HIP_SHIM_EXPORT hipError_t hipStreamSynchronize(hipStream_t stream) {
    return check("hipStreamSynchronize", cudaStreamSynchronize(stream));
}

HIP_SHIM_EXPORT hipError_t hipStreamDestroy(hipStream_t stream) {
    return check("hipStreamDestroy", cudaStreamDestroy(stream));
}

HIP_SHIM_EXPORT hipError_t hipEventCreateWithFlags(hipEvent_t* event, unsigned flags) {
    return check("hipEventCreateWithFlags", cudaEventCreateWithFlags(event, flags));
}

HIP_SHIM_EXPORT hipError_t hipEventRecord(hipEvent_t event, hipStream_t stream) {
    return check("hipEventRecord", cudaEventRecord(event, stream));
}

HIP_SHIM_EXPORT hipError_t hipEventSynchronize(hipEvent_t event) {
    return check("hipEventSynchronize", cudaEventSynchronize(event));
}

HIP_SHIM_EXPORT hipError_t hipEventQuery(hipEvent_t event) {
    return check("hipEventQuery", cudaEventQuery(event));
}

HIP_SHIM_EXPORT hipError_t hipEventElapsedTime(float* ms, hipEvent_t start, hipEvent_t stop) {
    return check("hipEventElapsedTime", cudaEventElapsedTime(ms, start, stop));
}

HIP_SHIM_EXPORT hipError_t hipEventDestroy(hipEvent_t event) {
    return check("hipEventDestroy", cudaEventDestroy(event));
}

// ---- modules (driver API) --------------------------------------------------

HIP_SHIM_EXPORT hipError_t hipModuleLoadData(hipModule_t* module, const void* image) {
    hipError_t e = ensure_context("hipModuleLoadData");
    if (e != hipSuccess) {
        return e;
    }
    return check("hipModuleLoadData", cuModuleLoadData(module, image));
}

HIP_SHIM_EXPORT hipError_t hipModuleUnload(hipModule_t module) {
    return check("hipModuleUnload", cuModuleUnload(module));
}

HIP_SHIM_EXPORT hipError_t hipModuleGetFunction(hipFunction_t* function, hipModule_t module,
                                                const char* name) {
    return check("hipModuleGetFunction", cuModuleGetFunction(function, module, name));
}

HIP_SHIM_EXPORT hipError_t hipModuleLaunchKernel(hipFunction_t f, unsigned gx, unsigned gy,
                                                 unsigned gz, unsigned bx, unsigned by,
                                                 unsigned bz, unsigned shared_bytes,
                                                 hipStream_t stream, void** params,
                                                 void** extra) {
    // A cudaStream_t is a CUstream (the runtime API is built on the driver's).
    return check("hipModuleLaunchKernel",
                 cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared_bytes, (CUstream)stream,
                                params, extra));
}

// ---- memory ----------------------------------------------------------------

HIP_SHIM_EXPORT hipError_t hipMalloc(void** ptr, size_t bytes) {
    return check("hipMalloc", cudaMalloc(ptr, bytes));
}

HIP_SHIM_EXPORT hipError_t hipFree(void* ptr) {
    return check("hipFree", cudaFree(ptr));
}

// hipMemcpyKind values equal cudaMemcpyKind's (HostToHost 0 ... Default 4).
HIP_SHIM_EXPORT hipError_t hipMemcpyAsync(void* dst, const void* src, size_t bytes, int kind,
                                          hipStream_t stream) {
    if (kind < 0 || kind > 4) {
        return hipErrorInvalidValue;
    }
    return check("hipMemcpyAsync",
                 cudaMemcpyAsync(dst, src, bytes, (cudaMemcpyKind)kind, stream));
}

// ---- external memory -------------------------------------------------------
// fd ownership: the Rust side keeps one rule for every runtime, ROCm's: the
// import only BORROWS the caller's fd, and the caller closes it afterwards
// (ROCm/clr rocclr/device/rocm/rocmemory.cpp maps the fd and never closes it).
// CUDA instead takes ownership on success (the CUDA driver API docs of
// cuImportExternalMemory say so; link in docs/ARCHITECTURE.md, "Driver workarounds and
// their evidence") and was seen closing the fd on a failed memory import (H100, CUDA 13.0,
// driver 580; no log of that run was kept). So CUDA gets a dup:
// on success CUDA owns the dup; on failure the dup is closed here, unless
// CUDA already closed it (then the number may name another file: the
// device/inode check below tells the two apart).

// Windows: CUDA does not take ownership of an NT handle ("the application must release
// the handle", cuImportExternalMemory), and a KMT handle is nobody's, so the caller's
// handle is passed through as it is, and the Rust side closes it after the import is
// destroyed (src/hip/external.rs).

#ifndef _WIN32
namespace {

struct DupFd {
    int fd = -1;
    struct stat identity {};
};

// A close-on-exec duplicate of `fd` and the identity of the file it names.
bool dup_for_cuda(int fd, DupFd* out) {
    out->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (out->fd < 0) {
        std::perror("hip shim: dup of the fd to import");
        return false;
    }
    if (fstat(out->fd, &out->identity) != 0) {
        close(out->fd);
        out->fd = -1;
        return false;
    }
    return true;
}

// After a failed import: close the dup if it is still the file we duplicated.
void release_after_failed_import(const DupFd& dup) {
    struct stat now {};
    if (fstat(dup.fd, &now) == 0 && now.st_dev == dup.identity.st_dev && now.st_ino == dup.identity.st_ino) {
        close(dup.fd);
    }
}

}  // namespace
#endif

HIP_SHIM_EXPORT hipError_t hipImportExternalMemory(hipExternalMemory_t* memory,
                                                   const hipExternalMemoryHandleDesc* desc) {
    if (desc == nullptr) {
        return hipErrorInvalidValue;
    }
    cudaExternalMemoryHandleDesc cuda_desc;
    std::memset(&cuda_desc, 0, sizeof(cuda_desc));
    cuda_desc.size = desc->size;
    cuda_desc.flags = (desc->flags & hipExternalMemoryDedicated) ? cudaExternalMemoryDedicated : 0;
#ifdef _WIN32
    switch (desc->type) {
        case hipExternalMemoryHandleTypeOpaqueWin32:
            cuda_desc.type = cudaExternalMemoryHandleTypeOpaqueWin32;
            break;
        case hipExternalMemoryHandleTypeOpaqueWin32Kmt:
            cuda_desc.type = cudaExternalMemoryHandleTypeOpaqueWin32Kmt;
            break;
        default:
            return hipErrorNotSupported;
    }
    cuda_desc.handle.win32.handle = desc->handle.win32.handle;
    return check("hipImportExternalMemory", cudaImportExternalMemory(memory, &cuda_desc));
#else
    if (desc->type != hipExternalMemoryHandleTypeOpaqueFd) {
        return hipErrorNotSupported;
    }
    DupFd dup;
    if (!dup_for_cuda(desc->handle.fd, &dup)) {
        return hipErrorInvalidValue;
    }
    cuda_desc.type = cudaExternalMemoryHandleTypeOpaqueFd;
    cuda_desc.handle.fd = dup.fd;
    hipError_t status = check("hipImportExternalMemory", cudaImportExternalMemory(memory, &cuda_desc));
    if (status != hipSuccess) {
        release_after_failed_import(dup);
    }
    return status;
#endif
}

HIP_SHIM_EXPORT hipError_t hipExternalMemoryGetMappedBuffer(
    void** ptr, hipExternalMemory_t memory, const hipExternalMemoryBufferDesc* desc) {
    if (desc == nullptr) {
        return hipErrorInvalidValue;
    }
    cudaExternalMemoryBufferDesc cuda_desc;
    std::memset(&cuda_desc, 0, sizeof(cuda_desc));
    cuda_desc.offset = desc->offset;
    cuda_desc.size = desc->size;
    cuda_desc.flags = desc->flags;
    return check("hipExternalMemoryGetMappedBuffer",
                 cudaExternalMemoryGetMappedBuffer(ptr, memory, &cuda_desc));
}

HIP_SHIM_EXPORT hipError_t hipDestroyExternalMemory(hipExternalMemory_t memory) {
    return check("hipDestroyExternalMemory", cudaDestroyExternalMemory(memory));
}

// ---- external semaphores ---------------------------------------------------

// The Rust side passes one semaphore per call; a fixed bound keeps these
// functions free of allocation (nothing can throw across extern "C").
static const unsigned kMaxSemaphoresPerCall = 16;

HIP_SHIM_EXPORT hipError_t hipImportExternalSemaphore(
    hipExternalSemaphore_t* semaphore, const hipExternalSemaphoreHandleDesc* desc) {
    if (desc == nullptr) {
        return hipErrorInvalidValue;
    }
    cudaExternalSemaphoreHandleDesc cuda_desc;
    std::memset(&cuda_desc, 0, sizeof(cuda_desc));
    cuda_desc.flags = desc->flags;
#ifdef _WIN32
    switch (desc->type) {
        case hipExternalSemaphoreHandleTypeOpaqueWin32:
            cuda_desc.type = cudaExternalSemaphoreHandleTypeOpaqueWin32;
            break;
        case hipExternalSemaphoreHandleTypeOpaqueWin32Kmt:
            cuda_desc.type = cudaExternalSemaphoreHandleTypeOpaqueWin32Kmt;
            break;
        case hipExternalSemaphoreHandleTypeTimelineSemaphoreWin32:
            cuda_desc.type = cudaExternalSemaphoreHandleTypeTimelineSemaphoreWin32;
            break;
        default:
            return hipErrorNotSupported;
    }
    cuda_desc.handle.win32.handle = desc->handle.win32.handle;
    return check("hipImportExternalSemaphore", cudaImportExternalSemaphore(semaphore, &cuda_desc));
#else
    switch (desc->type) {
        case hipExternalSemaphoreHandleTypeOpaqueFd:
            cuda_desc.type = cudaExternalSemaphoreHandleTypeOpaqueFd;
            break;
        case hipExternalSemaphoreHandleTypeTimelineSemaphoreFd:
            cuda_desc.type = cudaExternalSemaphoreHandleTypeTimelineSemaphoreFd;
            break;
        default:
            return hipErrorNotSupported;
    }
    DupFd dup;
    if (!dup_for_cuda(desc->handle.fd, &dup)) {
        return hipErrorInvalidValue;
    }
    cuda_desc.handle.fd = dup.fd;
    hipError_t status = check("hipImportExternalSemaphore", cudaImportExternalSemaphore(semaphore, &cuda_desc));
    if (status != hipSuccess) {
        release_after_failed_import(dup);
    }
    return status;
#endif
}

HIP_SHIM_EXPORT hipError_t hipSignalExternalSemaphoresAsync(
    const hipExternalSemaphore_t* semaphores, const hipExternalSemaphoreSignalWaitParams* params,
    unsigned count, hipStream_t stream) {
    if (count > 0 && (semaphores == nullptr || params == nullptr)) {
        return hipErrorInvalidValue;
    }
    // Field by field, never a cast: the layouts differ (see the struct above).
    if (count > kMaxSemaphoresPerCall) {
        return hipErrorNotSupported;
    }
    cudaExternalSemaphoreSignalParams cuda_params[kMaxSemaphoresPerCall];
    for (unsigned i = 0; i < count; ++i) {
        std::memset(&cuda_params[i], 0, sizeof(cuda_params[i]));
        cuda_params[i].params.fence.value = params[i].params.fence.value;
        cuda_params[i].params.keyedMutex.key = params[i].params.keyedMutex.key;
        cuda_params[i].flags = params[i].flags;
    }
    return check("hipSignalExternalSemaphoresAsync",
                 cudaSignalExternalSemaphoresAsync(semaphores, cuda_params, count, stream));
}

HIP_SHIM_EXPORT hipError_t hipWaitExternalSemaphoresAsync(
    const hipExternalSemaphore_t* semaphores, const hipExternalSemaphoreSignalWaitParams* params,
    unsigned count, hipStream_t stream) {
    if (count > 0 && (semaphores == nullptr || params == nullptr)) {
        return hipErrorInvalidValue;
    }
    // Field by field, never a cast: the layouts differ (see the struct above).
    if (count > kMaxSemaphoresPerCall) {
        return hipErrorNotSupported;
    }
    cudaExternalSemaphoreWaitParams cuda_params[kMaxSemaphoresPerCall];
    for (unsigned i = 0; i < count; ++i) {
        std::memset(&cuda_params[i], 0, sizeof(cuda_params[i]));
        cuda_params[i].params.fence.value = params[i].params.fence.value;
        cuda_params[i].params.keyedMutex.key = params[i].params.keyedMutex.key;
        cuda_params[i].params.keyedMutex.timeoutMs = params[i].params.keyedMutex.timeoutMs;
        cuda_params[i].flags = params[i].flags;
    }
    return check("hipWaitExternalSemaphoresAsync",
                 cudaWaitExternalSemaphoresAsync(semaphores, cuda_params, count, stream));
}

HIP_SHIM_EXPORT hipError_t hipDestroyExternalSemaphore(hipExternalSemaphore_t semaphore) {
    return check("hipDestroyExternalSemaphore", cudaDestroyExternalSemaphore(semaphore));
}

// ---- virtual memory (HIP-owned memory that Vulkan imports) -------------------
// Every descriptor is copied field by field into CUDA's; the handle travels as the
// CUDA value in HIP's pointer-sized handle.

namespace {

CUmemAllocationProp to_cuda(const hipMemAllocationProp& prop) {
    CUmemAllocationProp cuda_prop;
    std::memset(&cuda_prop, 0, sizeof(cuda_prop));
    cuda_prop.type = (CUmemAllocationType)prop.type;
    cuda_prop.requestedHandleTypes = (CUmemAllocationHandleType)prop.requestedHandleTypes;
    cuda_prop.location.type = (CUmemLocationType)prop.location.type;
    cuda_prop.location.id = prop.location.id;
    cuda_prop.win32HandleMetaData = prop.win32HandleMetaData;
    cuda_prop.allocFlags.compressionType = prop.allocFlags.compressionType;
    cuda_prop.allocFlags.gpuDirectRDMACapable = prop.allocFlags.gpuDirectRDMACapable;
    cuda_prop.allocFlags.usage = prop.allocFlags.usage;
    return cuda_prop;
}

CUmemGenericAllocationHandle to_cuda(hipMemGenericAllocationHandle_t handle) {
    return (CUmemGenericAllocationHandle)(uintptr_t)handle;
}

}  // namespace

HIP_SHIM_EXPORT hipError_t hipMemGetAllocationGranularity(size_t* granularity, const hipMemAllocationProp* prop,
                                                          int option) {
    if (granularity == nullptr || prop == nullptr) {
        return hipErrorInvalidValue;
    }
    hipError_t e = ensure_context("hipMemGetAllocationGranularity");
    if (e != hipSuccess) {
        return e;
    }
    CUmemAllocationProp cuda_prop = to_cuda(*prop);
    return check("hipMemGetAllocationGranularity",
                 cuMemGetAllocationGranularity(granularity, &cuda_prop, (CUmemAllocationGranularity_flags)option));
}

HIP_SHIM_EXPORT hipError_t hipMemCreate(hipMemGenericAllocationHandle_t* handle, size_t size,
                                        const hipMemAllocationProp* prop, unsigned long long flags) {
    if (handle == nullptr || prop == nullptr) {
        return hipErrorInvalidValue;
    }
    hipError_t e = ensure_context("hipMemCreate");
    if (e != hipSuccess) {
        return e;
    }
    CUmemAllocationProp cuda_prop = to_cuda(*prop);
    CUmemGenericAllocationHandle cuda_handle = 0;
    e = check("hipMemCreate", cuMemCreate(&cuda_handle, size, &cuda_prop, flags));
    if (e == hipSuccess) {
        *handle = (hipMemGenericAllocationHandle_t)(uintptr_t)cuda_handle;
    }
    return e;
}

// For the POSIX fd type the shareable handle is an int written through `shareable`; for
// the Win32 type (Windows) it is a HANDLE. The caller owns either (CUDA keeps none of it).
HIP_SHIM_EXPORT hipError_t hipMemExportToShareableHandle(void* shareable, hipMemGenericAllocationHandle_t handle,
                                                         int handle_type, unsigned long long flags) {
    if (shareable == nullptr) {
        return hipErrorInvalidValue;
    }
#ifdef _WIN32
    const int native = hipMemHandleTypeWin32;
    const CUmemAllocationHandleType cuda_type = CU_MEM_HANDLE_TYPE_WIN32;
#else
    const int native = hipMemHandleTypePosixFileDescriptor;
    const CUmemAllocationHandleType cuda_type = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
#endif
    if (handle_type != native) {
        return hipErrorNotSupported;
    }
    return check("hipMemExportToShareableHandle",
                 cuMemExportToShareableHandle(shareable, to_cuda(handle), cuda_type, flags));
}

HIP_SHIM_EXPORT hipError_t hipMemRelease(hipMemGenericAllocationHandle_t handle) {
    return check("hipMemRelease", cuMemRelease(to_cuda(handle)));
}

HIP_SHIM_EXPORT hipError_t hipMemAddressReserve(void** ptr, size_t size, size_t alignment, void* addr,
                                                unsigned long long flags) {
    if (ptr == nullptr) {
        return hipErrorInvalidValue;
    }
    hipError_t e = ensure_context("hipMemAddressReserve");
    if (e != hipSuccess) {
        return e;
    }
    CUdeviceptr reserved = 0;
    e = check("hipMemAddressReserve", cuMemAddressReserve(&reserved, size, alignment, (CUdeviceptr)addr, flags));
    if (e == hipSuccess) {
        *ptr = (void*)reserved;
    }
    return e;
}

HIP_SHIM_EXPORT hipError_t hipMemAddressFree(void* ptr, size_t size) {
    return check("hipMemAddressFree", cuMemAddressFree((CUdeviceptr)ptr, size));
}

HIP_SHIM_EXPORT hipError_t hipMemMap(void* ptr, size_t size, size_t offset, hipMemGenericAllocationHandle_t handle,
                                     unsigned long long flags) {
    return check("hipMemMap", cuMemMap((CUdeviceptr)ptr, size, offset, to_cuda(handle), flags));
}

HIP_SHIM_EXPORT hipError_t hipMemUnmap(void* ptr, size_t size) {
    return check("hipMemUnmap", cuMemUnmap((CUdeviceptr)ptr, size));
}

HIP_SHIM_EXPORT hipError_t hipMemSetAccess(void* ptr, size_t size, const hipMemAccessDesc* desc, size_t count) {
    if (count > 0 && desc == nullptr) {
        return hipErrorInvalidValue;
    }
    static const size_t kMaxAccessDescs = 16;
    if (count > kMaxAccessDescs) {
        return hipErrorNotSupported;
    }
    CUmemAccessDesc cuda_desc[kMaxAccessDescs];
    for (size_t i = 0; i < count; ++i) {
        std::memset(&cuda_desc[i], 0, sizeof(cuda_desc[i]));
        cuda_desc[i].location.type = (CUmemLocationType)desc[i].location.type;
        cuda_desc[i].location.id = desc[i].location.id;
        cuda_desc[i].flags = (CUmemAccess_flags)desc[i].flags;
    }
    return check("hipMemSetAccess", cuMemSetAccess((CUdeviceptr)ptr, size, cuda_desc, count));
}

// ---- image interop (HIP writes the shading image) ------------------------------

HIP_SHIM_EXPORT hipError_t hipExternalMemoryGetMappedMipmappedArray(
    void** mipmap, hipExternalMemory_t memory, const hipExternalMemoryMipmappedArrayDesc* desc) {
    if (mipmap == nullptr || desc == nullptr) {
        return hipErrorInvalidValue;
    }
    cudaExternalMemoryMipmappedArrayDesc cuda_desc;
    std::memset(&cuda_desc, 0, sizeof(cuda_desc));
    cuda_desc.offset = desc->offset;
    cuda_desc.formatDesc.x = desc->formatDesc.x;
    cuda_desc.formatDesc.y = desc->formatDesc.y;
    cuda_desc.formatDesc.z = desc->formatDesc.z;
    cuda_desc.formatDesc.w = desc->formatDesc.w;
    cuda_desc.formatDesc.f = (cudaChannelFormatKind)desc->formatDesc.f;
    cuda_desc.extent.width = desc->extent.width;
    cuda_desc.extent.height = desc->extent.height;
    cuda_desc.extent.depth = desc->extent.depth;
    cuda_desc.flags = desc->flags;
    cuda_desc.numLevels = desc->numLevels;
    cudaMipmappedArray_t cuda_mipmap = nullptr;
    hipError_t e = check("hipExternalMemoryGetMappedMipmappedArray",
                         cudaExternalMemoryGetMappedMipmappedArray(&cuda_mipmap, memory, &cuda_desc));
    if (e == hipSuccess) {
        *mipmap = cuda_mipmap;
    }
    return e;
}

HIP_SHIM_EXPORT hipError_t hipGetMipmappedArrayLevel(void** level_array, void* mipmap, unsigned level) {
    if (level_array == nullptr) {
        return hipErrorInvalidValue;
    }
    cudaArray_t array = nullptr;
    hipError_t e = check("hipGetMipmappedArrayLevel",
                         cudaGetMipmappedArrayLevel(&array, (cudaMipmappedArray_const_t)mipmap, level));
    if (e == hipSuccess) {
        *level_array = array;
    }
    return e;
}

HIP_SHIM_EXPORT hipError_t hipFreeMipmappedArray(void* mipmap) {
    return check("hipFreeMipmappedArray", cudaFreeMipmappedArray((cudaMipmappedArray_t)mipmap));
}

HIP_SHIM_EXPORT hipError_t hipCreateSurfaceObject(unsigned long long* surface, const hipResourceDesc* desc) {
    if (surface == nullptr || desc == nullptr) {
        return hipErrorInvalidValue;
    }
    if (desc->resType != hipResourceTypeArray) {
        return hipErrorNotSupported;
    }
    cudaResourceDesc cuda_desc;
    std::memset(&cuda_desc, 0, sizeof(cuda_desc));
    cuda_desc.resType = cudaResourceTypeArray;
    cuda_desc.res.array.array = (cudaArray_t)desc->res.array.array;
    cudaSurfaceObject_t cuda_surface = 0;
    hipError_t e = check("hipCreateSurfaceObject", cudaCreateSurfaceObject(&cuda_surface, &cuda_desc));
    if (e == hipSuccess) {
        *surface = cuda_surface;
    }
    return e;
}

HIP_SHIM_EXPORT hipError_t hipDestroySurfaceObject(unsigned long long surface) {
    return check("hipDestroySurfaceObject", cudaDestroySurfaceObject(surface));
}

// ---- stream memory operations (--sync stream-wait) ------------------------------
// HIP passes a mask CUDA does not take: only the full mask is accepted. HIP's wait flags
// equal CUDA's (Gte/GEQ 0, Eq 1, And 2, Nor 3).

enum : unsigned {
    hipStreamWaitValueGte = 0,
};
static_assert((int)hipStreamWaitValueGte == (int)CU_STREAM_WAIT_VALUE_GEQ, "wait value GEQ");

HIP_SHIM_EXPORT hipError_t hipStreamWaitValue32(hipStream_t stream, void* ptr, unsigned value, unsigned flags,
                                                unsigned mask) {
    if (ptr == nullptr) {
        return hipErrorInvalidValue;
    }
    if (mask != 0xFFFFFFFFu || flags > 3) {
        return hipErrorNotSupported;
    }
    return check("hipStreamWaitValue32",
                 cuStreamWaitValue32((CUstream)stream, (CUdeviceptr)ptr, value, flags));
}
