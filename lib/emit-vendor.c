/*
 * Vendor-ready outputs: the HLS top with packed ports (`<prefix>_top`, in
 * <prefix>.c), a Vitis HLS script, and a Vivado out-of-context script with
 * its clock constraint for the Verilog and VHDL designs. Vivado and Vitis are
 * not available where this library is built and tested: the scripts are
 * checked only by running them under Tcl with the tools' commands stubbed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <string.h>

#include "emit-priv.h"

#define NAME_CAP (SPLUT__PREFIX_MAX + 48)
#define DEFAULT_PART "xcvu9p-flgb2104-2-i" /* the reference papers' device */
#define DEFAULT_PERIOD_NS "2.000"

static uint32_t words64(uint32_t bits)
{
    return (bits + 63) / 64;
}

void splut__hls_top_types(const splut__net *net, splut__buf *b)
{
    const char *p = net->prefix;
    char P[SPLUT__PREFIX_MAX + 1];
    splut__upper(P, sizeof(P), p);
    uint32_t win = net->n_in * splut__net_port_bits(net), wout = net->n_out * net->out_bits;
    splut__buf_printf(b,
                      "\n/* Packed buses of %s_top: bit k of a bus is bit k %% 64 of word k / 64;\n"
                      " * field x of the input bus holds feature x (field 0 in the LSBs). */\n"
                      "#define %s_IN_WIDTH %u\n#define %s_OUT_WIDTH %u\n"
                      "#define %s_IN_WORDS %u\n#define %s_OUT_WORDS %u\n",
                      p, P, win, P, wout, P, words64(win), P, words64(wout));
    splut__buf_printf(b,
                      "#if defined(__cplusplus) && (defined(__SYNTHESIS__) || "
                      "defined(__VITIS_HLS__))\n"
                      "#include <ap_int.h>\ntypedef ap_uint<64> %s_word;\n#else\n"
                      "typedef uint64_t %s_word;\n#endif\n",
                      p, p);
}

void splut__hls_top_decl(const splut__net *net, splut__buf *b)
{
    const char *p = net->prefix;
    char P[SPLUT__PREFIX_MAX + 1];
    splut__upper(P, sizeof(P), p);
    splut__buf_printf(b,
                      "\n/* Synthesis top: %s_infer on packed buses (the same layout as the\n"
                      " * RTL ports M0 and M1), one result per clock. */\n"
                      "void %s_top(const %s_word in[%s_IN_WORDS], %s_word out[%s_OUT_WORDS]);\n",
                      p, p, p, P, p, P);
}

void splut__hls_top_def(const splut__net *net, splut__buf *b)
{
    const char *p = net->prefix;
    char P[SPLUT__PREFIX_MAX + 1];
    splut__upper(P, sizeof(P), p);
    const char *elem = net->input ? "uint32_t" : "uint16_t";
    const char *bits = net->input ? "RAW_BITS" : "IN_BITS";
    splut__buf_printf(b,
                      "\n/* Field of `bits` bits at bit `lsb` of a packed bus. */\n"
                      "static uint32_t %s_get(const %s_word *w, uint32_t lsb, uint32_t bits)\n{\n"
                      "    uint32_t v = 0, i;\n    for (i = 0; i < bits; i++) {\n"
                      "        uint32_t k = lsb + i;\n"
                      "        v |= (uint32_t)((uint64_t)(w[k / 64] >> (k %% 64)) & 1u) << i;\n"
                      "    }\n    return v;\n}\n\n",
                      p, p);
    splut__buf_printf(b,
                      "static void %s_put(%s_word *w, uint32_t lsb, uint32_t bits, uint32_t v)\n{\n"
                      "    uint32_t i;\n    for (i = 0; i < bits; i++) {\n"
                      "        uint32_t k = lsb + i;\n"
                      "        w[k / 64] |= (%s_word)((uint64_t)((v >> i) & 1u) << (k %% 64));\n"
                      "    }\n}\n\n",
                      p, p, p);
    splut__buf_printf(b,
                      "void %s_top(const %s_word in[%s_IN_WORDS], %s_word out[%s_OUT_WORDS])\n{\n"
                      "    %s x[%s_N_IN];\n    uint16_t y[%s_N_OUT];\n    uint32_t k;\n",
                      p, p, P, p, P, elem, P, P);
    splut__buf_puts(b, "#ifdef __SYNTHESIS__\n"
                       "#pragma HLS INTERFACE mode=ap_ctrl_none port=return\n"
                       "#pragma HLS INTERFACE mode=ap_none port=in\n"
                       "#pragma HLS INTERFACE mode=ap_none port=out\n"
                       "#pragma HLS ARRAY_PARTITION variable=in complete\n"
                       "#pragma HLS ARRAY_PARTITION variable=out complete\n"
                       "#pragma HLS ARRAY_PARTITION variable=x complete\n"
                       "#pragma HLS ARRAY_PARTITION variable=y complete\n"
                       "#pragma HLS PIPELINE II=1\n#endif\n");
    splut__buf_printf(b,
                      "    for (k = 0; k < %s_N_IN; k++)\n"
                      "        x[k] = (%s)%s_get(in, k * %s_%s, %s_%s);\n"
                      "    %s_infer(x, y);\n"
                      "    for (k = 0; k < %s_OUT_WORDS; k++)\n        out[k] = 0;\n"
                      "    for (k = 0; k < %s_N_OUT; k++)\n"
                      "        %s_put(out, k * %s_OUT_BITS, %s_OUT_BITS, y[k]);\n}\n",
                      P, elem, p, P, bits, P, bits, p, P, P, p, P, P);
}

splut_status splut__emit_vitis_tcl(const splut__net *net, splut__buf *b, const char *dir)
{
    const char *p = net->prefix;
    splut__buf_reset(b);
    splut__buf_printf(b,
                      "# Vitis HLS project for %s_top. Generated by libsparselut %s; do not edit.\n"
                      "# Not run where libsparselut is tested (no Xilinx tools there).\n"
                      "# Usage, in this directory: vitis_hls -f %s_hls.tcl [-tclargs PART "
                      "PERIOD_NS]\n\n",
                      p, SPLUT_VERSION_STRING, p);
    splut__buf_printf(b,
                      "set part %s\nset period %s\n"
                      "if {[info exists argv] && [llength $argv] > 0} { set part [lindex $argv 0] }\n"
                      "if {[info exists argv] && [llength $argv] > 1} { set period [lindex $argv 1] }\n"
                      "set here [file dirname [file normalize [info script]]]\n\n",
                      DEFAULT_PART, DEFAULT_PERIOD_NS);
    splut__buf_printf(b,
                      "open_project -reset %s_hls\nset_top %s_top\n"
                      "add_files [file join $here %s.c]\n"
                      "# The testbench (splut_tables_emit_testbench) checks %s_infer and %s_top.\n"
                      "set tb [file join $here %s_tb.c]\nset have_tb [file exists $tb]\n"
                      "if {$have_tb} {\n"
                      "    add_files -tb $tb\n"
                      "    add_files -tb [file join $here %s_in.hex]\n"
                      "    add_files -tb [file join $here %s_out.hex]\n}\n",
                      p, p, p, p, p, p, p, p);
    splut__buf_puts(b, "open_solution -reset sol -flow_target vivado\nset_part $part\n"
                       "create_clock -period $period -name default\n"
                       "if {$have_tb} { csim_design }\ncsynth_design\n"
                       "if {$have_tb} { cosim_design }\n"
                       "export_design -format ip_catalog\nexit\n");
    char file[NAME_CAP];
    snprintf(file, sizeof(file), "%s_hls.tcl", p);
    return splut__buf_write(b, dir, file);
}

/* The clock constraint, and I/O delays so that paths from and to the ports
 * are timed too (all of them in a design without pipeline registers). */
static splut_status write_xdc(const splut__net *net, splut__buf *b, const char *dir)
{
    splut__buf_reset(b);
    splut__buf_printf(b,
                      "# Out-of-context timing constraints for %s_top. Generated by "
                      "libsparselut %s.\n"
                      "create_clock -name clk -period %s [get_ports clk]\n"
                      "set_input_delay -clock clk 0.000 [get_ports {M0[*]}]\n"
                      "set_output_delay -clock clk 0.000 [get_ports {M1[*]}]\n",
                      net->prefix, SPLUT_VERSION_STRING, DEFAULT_PERIOD_NS);
    char file[NAME_CAP];
    snprintf(file, sizeof(file), "%s.xdc", net->prefix);
    return splut__buf_write(b, dir, file);
}

static splut_status write_vivado_tcl(const splut__net *net, splut__buf *b, const char *dir,
                                     const char *ext)
{
    const char *p = net->prefix;
    bool vhdl = strcmp(ext, "vhd") == 0;
    splut__buf_reset(b);
    splut__buf_printf(b,
                      "# Vivado out-of-context implementation of %s_top. Generated by "
                      "libsparselut %s.\n"
                      "# Not run where libsparselut is tested (no Xilinx tools there).\n"
                      "# Usage: vivado -mode batch -source %s_vivado.tcl [-tclargs PART]\n"
                      "# The clock period is in %s.xdc.\n\n",
                      p, SPLUT_VERSION_STRING, p, p);
    splut__buf_printf(b,
                      "set part %s\n"
                      "if {[info exists argv] && [llength $argv] > 0} { set part [lindex $argv 0] }\n"
                      "set here [file dirname [file normalize [info script]]]\n"
                      "set fp [open [file join $here %s_files.txt] r]\n"
                      "foreach f [split [string trim [read $fp]] \"\\n\"] {\n"
                      "    %s [file join $here $f]\n}\nclose $fp\n"
                      "read_xdc -mode out_of_context [file join $here %s.xdc]\n",
                      DEFAULT_PART, p, vhdl ? "read_vhdl -vhdl2008" : "read_verilog", p);
    splut__buf_printf(b,
                      "synth_design -top %s_top -part $part -mode out_of_context \\\n"
                      "    -directive PerformanceOptimized -retiming\n"
                      "opt_design\nplace_design -directive Explore\nroute_design -directive Explore\n"
                      "report_utilization -file [file join $here %s_utilization.rpt]\n"
                      "report_timing_summary -file [file join $here %s_timing.rpt]\n",
                      p, p, p);
    splut__buf_puts(b,
                    "set period [get_property PERIOD [get_clocks clk]]\n"
                    "set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]\n"
                    "puts \"SPLUT_VIVADO part=$part period_ns=$period wns_ns=$wns "
                    "fmax_mhz=[expr {1000.0 / ($period - $wns)}]\"\n");
    char file[NAME_CAP];
    snprintf(file, sizeof(file), "%s_vivado.tcl", p);
    return splut__buf_write(b, dir, file);
}

splut_status splut__emit_vivado(const splut__net *net, const char *dir, const char *ext)
{
    splut__buf b;
    splut__buf_init(&b, net->ctx);
    splut_status st = write_xdc(net, &b, dir);
    if (st == SPLUT_OK)
        st = write_vivado_tcl(net, &b, dir, ext);
    splut__buf_free(&b);
    return st;
}
