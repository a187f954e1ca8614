-- Satisfaction (patron survey): a solved ticket asks for a score from 0 to
-- 10; a promoter (9-10) is asked for a review; a detractor (0-6) is tagged
-- and logged for the owner to call.
rule {
  name = "NPS after a solved ticket",
  on = "ticket.solved",
  act = function(c, e)
    send{ channel = "email", to = c, template = "nps",
          vars = { survey = "nps", ticket = e.data.ticket } }
  end,
  cooldown = "30d",
}
rule {
  name = "ask promoters for a review",
  on = "survey.answered",
  where = function(c, e) return c ~= nil and e.kind == "nps" and e.category == "promoter" end,
  act = function(c, e)
    send{ channel = "email", to = c, template = "review_request" }
  end,
  cooldown = "180d",
}
rule {
  name = "follow up on detractors",
  on = "survey.answered",
  where = function(c, e) return c ~= nil and e.kind == "nps" and e.category == "detractor" end,
  act = function(c, e)
    tag(c, "detractor")
    log("customer " .. c.id .. " scored us " .. e.score .. ": " .. (e.comment or "no comment"))
  end,
}
rule {
  name = "CSAT a week after an order",
  every = "1d",
  where = function(c) return c.days_since_last_order == 7 end,
  act = function(c)
    send{ channel = "email", to = c, template = "csat", vars = { survey = "csat" } }
  end,
  cooldown = "60d",
}
