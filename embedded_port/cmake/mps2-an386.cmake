# Firmware images for QEMU's mps2-an386 (Cortex-M4): what the on-target test
# runner (embedded_port/CMakeLists.txt) and the board (embedded_port/board)
# build the same way.  include() it after project(... LANGUAGES C ASM).
#
#   mfota_mps2_executable(NAME LINKER_SCRIPT SOURCES...)
#
# adds NAME.elf from the board's start-up code and SOURCES, as C99 without
# extensions and with the project's warnings as errors (C files only: the
# start-up code is assembler), linked by LINKER_SCRIPT (which includes
# mps2-an386-sections.ld) against newlib's semihosting, with a link map
# NAME.map next to it; the build prints its size.

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
