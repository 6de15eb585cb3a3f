/*
 * Start-up code for QEMU's mps2-an386 board (Cortex-M4), linked with newlib's
 * semihosting library (--specs=rdimon.specs) but not its crt0 (-nostartfiles).
 *
 * Why not rdimon's crt0: it asks the debugger for the stack (SYS_HEAPINFO),
 * and QEMU answers with the top of the board's 16 MiB PSRAM at 0x21000000, so
 * the stack would silently leave the RAM the linker script lays out.  Here the
 * stack is the vector table's, as on a real device, and main() opens the
 * semihosting console itself (initialise_monitor_handles()).
 *
 * Reset: copy .data from flash to RAM, zero .bss, enable the FPU when the
 * image is built for it, run the C/C++ constructors, main(), exit(status).
 *
 * Every fault and unexpected interrupt prints its name on the semihosting
 * console and ends the emulator with exit status 2 (SYS_EXIT_EXTENDED), so a
 * crashing test can never look like a pass and never hangs until a timeout.
 */
    .syntax unified
    .thumb

/* Semihosting operations (Arm "Semihosting for AArch32 and AArch64"). */
    .equ SYS_WRITE0, 0x04
    .equ SYS_EXIT_EXTENDED, 0x20
    .equ ADP_Stopped_ApplicationExit, 0x20026
    .equ FAULT_EXIT_STATUS, 2

    .section .vectors, "a", %progbits
    .align 2
    .global __vector_table
__vector_table:
    .word __stack_top__          /* initial SP */
    .word Reset_Handler
    .word NMI_Handler
    .word HardFault_Handler
    .word MemManage_Handler
    .word BusFault_Handler
    .word UsageFault_Handler
    .word 0, 0, 0, 0             /* reserved */
    .word SVC_Handler
    .word DebugMon_Handler
    .word 0                      /* reserved */
    .word PendSV_Handler
    .word SysTick_Handler
    /* External interrupts: the runner enables none; catch them all anyway. */
    .rept 32
    .word Unexpected_IRQ_Handler
    .endr
    .size __vector_table, . - __vector_table

    .text

    .thumb_func
    .global Reset_Handler
    .type Reset_Handler, %function
Reset_Handler:
    ldr r0, =__data_load__
    ldr r1, =__data_start__
    ldr r2, =__data_end__
1:  cmp r1, r2
    bhs 2f
    ldr r3, [r0], #4
    str r3, [r1], #4
    b 1b
2:
#if defined(__ARM_FP)
    /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
#endif
    ldr r1, =__bss_start__
    ldr r2, =__bss_end__
    movs r0, #0
3:  cmp r1, r2
    bhs 4f
    str r0, [r1], #4
    b 3b
4:  bl __libc_init_array
    movs r0, #0                  /* argc */
    movs r1, #0                  /* argv */
    bl main
    bl exit                      /* flushes stdout, SYS_EXIT_EXTENDED(status) */
5:  b 5b
    .size Reset_Handler, . - Reset_Handler

/* __libc_init_array calls _init and exit calls _fini; without crti.o/crtn.o
 * (-nostartfiles) nothing else defines them. */
    .thumb_func
    .weak _init
    .type _init, %function
_init:
    bx lr
    .size _init, . - _init

    .thumb_func
    .weak _fini
    .type _fini, %function
_fini:
    bx lr
    .size _fini, . - _fini

/* r0: NUL-terminated name.  Prints "FAULT <name>" and exits with status 2. */
    .thumb_func
    .type fault_exit, %function
fault_exit:
    mov r4, r0
    movs r0, #SYS_WRITE0
    adr r1, fault_prefix
    bkpt 0xAB
    movs r0, #SYS_WRITE0
    mov r1, r4
    bkpt 0xAB
    movs r0, #SYS_WRITE0
    adr r1, fault_suffix
    bkpt 0xAB
    movs r0, #SYS_EXIT_EXTENDED
    adr r1, fault_exit_block
    bkpt 0xAB
6:  b 6b                         /* not reached: semihosting is off */
    .size fault_exit, . - fault_exit

    .align 2
fault_exit_block:
    .word ADP_Stopped_ApplicationExit, FAULT_EXIT_STATUS
fault_prefix:
    .asciz "\nFAULT "
fault_suffix:
    .asciz "\n"
    .align 1

/* One weak handler per exception, so a firmware may override any of them. */
    .macro fault_handler name
    .thumb_func
    .weak \name
    .type \name, %function
\name:
    adr r0, .L\name\()_str
    b fault_exit
.L\name\()_str:
    .asciz "\name"
    .align 1
    .size \name, . - \name
    .endm

    fault_handler NMI_Handler
    fault_handler HardFault_Handler
    fault_handler MemManage_Handler
    fault_handler BusFault_Handler
    fault_handler UsageFault_Handler
    fault_handler SVC_Handler
    fault_handler DebugMon_Handler
    fault_handler PendSV_Handler
    fault_handler SysTick_Handler
    fault_handler Unexpected_IRQ_Handler

    .section .note.GNU-stack, "", %progbits
