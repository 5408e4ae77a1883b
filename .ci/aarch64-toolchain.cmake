# Cross build for aarch64 (Debian's g++-aarch64-linux-gnu), run under
# qemu-user: .ci/aarch64 configures with this file. Libraries come from the
# multiarch :arm64 packages in /usr/lib/aarch64-linux-gnu, and those that
# cannot be installed beside their amd64 versions (ONNX, protobuf,
# yaml-cpp development files) from BRSIM_AARCH64_SYSROOT, where .ci/aarch64
# unpacks their arm64 packages.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT BRSIM_AARCH64_SYSROOT)
  set(BRSIM_AARCH64_SYSROOT "$ENV{BRSIM_AARCH64_SYSROOT}")
endif()
set(BRSIM_AARCH64_SYSROOT "${BRSIM_AARCH64_SYSROOT}" CACHE PATH "Unpacked arm64 packages (.ci/aarch64)")
list(APPEND CMAKE_PREFIX_PATH "${BRSIM_AARCH64_SYSROOT}/usr")
# Programs (protoc) are the host's; SystemC through pkg-config, arm64's.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")

# Test programs (and gtest's test discovery) run under qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu -E
    LD_LIBRARY_PATH=${BRSIM_AARCH64_SYSROOT}/usr/lib/aarch64-linux-gnu)
