"""Outside systems: one package each (cpanel, enom, paypal, mail) with protocol, client, sandbox."""
