-- Welcome a new customer, once, when they are created (an import, a shop
-- webhook or patron emit customer.created).
rule {
  name = "welcome new customers",
  on = "customer.created",
  act = function(c)
    send{ channel = "email", to = c, template = "welcome" }
  end,
}
