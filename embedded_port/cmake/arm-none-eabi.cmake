# CMake toolchain file: bare-metal Arm Cortex-M4 with the GNU Arm toolchain
# (Debian: gcc-arm-none-eabi + libnewlib-arm-none-eabi).
#
#   cmake -S <project> -B build \
#         -DCMAKE_TOOLCHAIN_FILE=<m2mfota>/embedded_port/cmake/arm-none-eabi.cmake
#
# Float ABI: soft by default (-mfloat-abi=soft).  The m2mfota core has no
# floating point at all, so the FPU buys it nothing, and soft-float objects run
# on every Cortex-M4 -- with or without the optional FPU (M4 vs M4F) -- and need
# no CPACR set-up before main().  A firmware that uses the FPU passes
#   -DMFOTA_ARM_FLOAT_ABI=hard
# which gives -mfloat-abi=hard -mfpu=fpv4-sp-d16; every object and library of
# one image must use the same choice (the linker refuses a mix), and the
# startup code must enable the FPU (embedded_port/mps2-an386/startup.S does
# when __ARM_FP is defined).
#
# Code and data go into one section per function/object so that
# -Wl,--gc-sections drops whatever a firmware does not call.
# CPU flags live in CMAKE_<LANG>_FLAGS_INIT: add project flags through the
# CFLAGS environment variable or target options, because a -DCMAKE_C_FLAGS=...
# on the command line replaces the _INIT value, CPU flags included.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(MFOTA_ARM_TRIPLE arm-none-eabi CACHE STRING "Prefix of the cross tools")
set(MFOTA_ARM_FLOAT_ABI soft CACHE STRING "soft (default) or hard (fpv4-sp-d16)")
set_property(CACHE MFOTA_ARM_FLOAT_ABI PROPERTY STRINGS soft hard)
# try_compile() projects see only variables listed here.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MFOTA_ARM_TRIPLE MFOTA_ARM_FLOAT_ABI)

set(CMAKE_C_COMPILER ${MFOTA_ARM_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${MFOTA_ARM_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${MFOTA_ARM_TRIPLE}-gcc)
find_program(CMAKE_AR ${MFOTA_ARM_TRIPLE}-ar)
find_program(CMAKE_RANLIB ${MFOTA_ARM_TRIPLE}-ranlib)
find_program(CMAKE_OBJCOPY ${MFOTA_ARM_TRIPLE}-objcopy)
find_program(CMAKE_NM ${MFOTA_ARM_TRIPLE}-nm)
find_program(CMAKE_SIZE ${MFOTA_ARM_TRIPLE}-size)

# No OS to run a test executable on: check the compiler by building a library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

if(MFOTA_ARM_FLOAT_ABI STREQUAL "hard")
  set(_mfota_fpu "-mfloat-abi=hard -mfpu=fpv4-sp-d16")
elseif(MFOTA_ARM_FLOAT_ABI STREQUAL "soft")
  set(_mfota_fpu "-mfloat-abi=soft")
else()
  message(FATAL_ERROR "MFOTA_ARM_FLOAT_ABI must be soft or hard, not '${MFOTA_ARM_FLOAT_ABI}'")
endif()
set(_mfota_cpu "-mcpu=cortex-m4 -mthumb ${_mfota_fpu}")

set(CMAKE_C_FLAGS_INIT "${_mfota_cpu} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${_mfota_cpu} -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${_mfota_cpu}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_mfota_cpu} -Wl,--gc-sections")

# Headers and libraries come from the cross sysroot only; programs (code
# generators, Python) from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
