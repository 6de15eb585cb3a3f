# Firmware images for QEMU's mps2-an386 (Cortex-M4): what the on-target test
# runner (embedded_port/CMakeLists.txt) and the board (embedded_port/board)
# set up and build the same way.  include() it right after
# project(... LANGUAGES C ASM), before add_subdirectory() of the repository:
# it refuses a host build, makes MinSizeRel the default build type (test what
# ships: firmware is built for size) and turns off the host-only parts of the
# m2mfota build.
#
#   mfota_mps2_executable(NAME LINKER_SCRIPT SOURCES...)
#
# adds NAME.elf from the board's start-up code and SOURCES, as C99 without
# extensions and with the project's warnings as errors (C files only: the
# start-up code is assembler), linked by LINKER_SCRIPT (which includes
# mps2-an386-sections.ld) against newlib's semihosting, with a link map
# NAME.map next to it; the build prints its size.

if(NOT CMAKE_CROSSCOMPILING)
  message(FATAL_ERROR "${PROJECT_NAME} is a cross build: pass "
          "-DCMAKE_TOOLCHAIN_FILE=${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake")
endif()
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE MinSizeRel CACHE STRING "Build type (default MinSizeRel: -Os)" FORCE)
endif()
set(MFOTA_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(MFOTA_BUILD_BENCH OFF CACHE BOOL "" FORCE)
set(MFOTA_BUILD_PYTHON OFF CACHE BOOL "" FORCE)
set(MFOTA_BUILD_DEVICE OFF CACHE BOOL "" FORCE)

set(MFOTA_MPS2_DIR ${CMAKE_CURRENT_LIST_DIR}/../mps2-an386)
set(MFOTA_MPS2_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror)

function(mfota_mps2_executable name ld)
  add_executable(${name} ${MFOTA_MPS2_DIR}/startup.S ${ARGN})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf" C_STANDARD 99 C_EXTENSIONS OFF
                        LINK_DEPENDS "${ld};${MFOTA_MPS2_DIR}/mps2-an386-sections.ld")
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:C>:${MFOTA_MPS2_WARNINGS}>)
  # -nostartfiles: startup.S replaces rdimon's crt0 (see there why).
  # -z noexecstack: newlib's objects lack the GNU-stack note (a linker warning).
  target_link_options(${name} PRIVATE --specs=rdimon.specs -nostartfiles -L${MFOTA_MPS2_DIR}
                      -T${ld} -Wl,-z,noexecstack
                      -Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map)
  add_custom_command(TARGET ${name} POST_BUILD COMMAND ${CMAKE_SIZE} $<TARGET_FILE:${name}>
                     VERBATIM)
endfunction()
