-- Thank a customer on their third paid order, and tag them as a regular.
rule {
  name = "thank on third order",
  on = "order.created",
  where = function(c, e)
    return e.order ~= nil and e.order.number == 3
  end,
  act = function(c, e)
    send{ channel = "email", to = c, template = "thank_you",
          vars = { order = e.order.key, total = e.order.total } }
    tag(c, "regular")
  end,
}
