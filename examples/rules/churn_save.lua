-- Churn-risk save offer: when a customer's churn probability crosses 0.7
-- (the churn scorer emits score.changed), send a save offer and tag them.
rule {
  name = "churn-risk save offer",
  on = "score.changed",
  where = function(c, e)
    local d = e.data
    return c ~= nil and d.score == "churn" and d.value >= 0.7 and (d.previous or 0) < 0.7
  end,
  act = function(c, e)
    send{ channel = "email", to = c, template = "save_offer",
          vars = { discount = "20%", churn = e.data.value } }
    tag(c, "churn-risk")
  end,
  cooldown = "60d",
}
