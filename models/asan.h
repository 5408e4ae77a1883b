// BRSIM_ASAN is defined when AddressSanitizer instruments the build (GCC's
// __SANITIZE_ADDRESS__, clang's feature test).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define BRSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRSIM_ASAN 1
#endif
#endif
