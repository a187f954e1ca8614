-- Churn-risk save offer: when a customer's churn probability crosses the
-- alert threshold (chosen from held-out customers when the model was
-- trained, or churn.threshold in patron.conf; patron score emits
-- score.changed), send a save offer and tag them.
rule {
  name = "churn-risk save offer",
  on = "score.changed",
  where = function(c, e)
    local d = e.data
    local t = d.threshold or 0.7   -- an event that names no threshold
    return c ~= nil and d.score == "churn" and d.value >= t and (d.previous or 0) < t
  end,
  act = function(c, e)
    send{ channel = "email", to = c, template = "save_offer",
          vars = { discount = "20%", churn = e.data.value } }
    tag(c, "churn-risk")
  end,
  cooldown = "60d",
}
