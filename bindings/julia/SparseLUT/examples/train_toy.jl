# SPDX-License-Identifier: Apache-2.0
# UNTESTED (no Julia on the project's Debian 12 machines): define a small
# PolyLUT-Add model, train it on toy data, enumerate the tables, check LUT-mode
# inference against the model and write Verilog.
#
#   SPARSELUT_LIB=/path/to/libsparselut.so julia --project=bindings/julia/SparseLUT \
#       bindings/julia/SparseLUT/examples/train_toy.jl
using SparseLUT
using Random

const SL = SparseLUT

ctx = Context(threads=2, seed=7)
m = Model(ctx, 8, 2, [Layer(:poly_add, 6, 2, 2; degree=2, sub_neurons=2),
                      Layer(:poly, 3, 3, 2; degree=2)])

rng = MersenneTwister(1)
x = randn(rng, Float32, 8, 128)                 # features × samples
y = Int32.((x[1, :] .> 0) .+ (x[2, :] .> 0))    # classes 0..2

t = Trainer(m)
SL.setparam!(t, :learning_rate, 0.05)
losses = [train_step!(t, x, y) for _ in 1:40]
println("loss ", losses[1], " -> ", losses[end])
close(t)

tables = Tables(m)
codes = UInt16.(rand(rng, 0:3, 8, 200))
same = tables_forward(tables, codes) == forward_codes(m, codes)
println("tables ", same ? "match" : "DO NOT match", " the model; about ", SL.cost(tables), " LUT6")
emit(tables, :verilog, "hdl_julia"; pipeline=:layer)
println("Verilog in hdl_julia/, latency ", latency(tables; pipeline=:layer), " cycles")
close(tables); close(m); close(ctx)
same || exit(1)
