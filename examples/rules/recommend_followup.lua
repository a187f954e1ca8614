-- Follow up seven days after an order with the products the recommender
-- picked for the customer (patron score writes them).
rule {
  name = "recommendations follow-up",
  every = "1d",
  where = function(c)
    return c.days_since_last_order == 7 and #c.recommendations > 0
  end,
  act = function(c)
    local picks = {}
    for i, p in ipairs(c.recommendations) do
      if i > 3 then break end
      picks[#picks + 1] = p.name
    end
    send{ channel = "email", to = c, template = "recommendations", vars = { products = picks } }
  end,
  cooldown = "14d",
}
