"""The pure core: values and rules, no I/O, no clock, no environment.

Everything here takes values (bytes, keys, an SOP, `now`) and returns values or raises a
`gateway.errors.GatewayError`. The edges (store, net, cli) do the I/O.
"""
