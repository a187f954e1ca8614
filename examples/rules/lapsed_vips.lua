-- Email lapsed VIPs: customers who spent a lot but have not ordered for two
-- months get a win-back offer, at most once a month.
rule {
  name = "email lapsed VIPs",
  every = "1d",
  where = function(c)
    return c.total_spent >= 200 and c.days_since_last_order ~= nil
       and c.days_since_last_order > 60
  end,
  act = function(c)
    send{ channel = "email", to = c, template = "winback", vars = { discount = "15%" } }
  end,
  cooldown = "30d",
}
