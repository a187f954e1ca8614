-- The inbox (patron import inbox): an angry message from a customer who
-- matters is tagged for the owner's attention at once, and a question left
-- unanswered past sla.first_response in patron.conf is tagged too, so
-- the owner finds them by their tags and at the top of `patron inbox`.
rule {
  name = "escalate an angry valuable customer",
  on = "inquiry.received",
  where = function(c, e)
    return c ~= nil and e.sentiment ~= nil and e.sentiment <= -0.3
       and (c.segment == "champions" or c.segment == "loyal" or c.total_spent >= 200)
  end,
  act = function(c, e)
    tag(c, "needs-care")
    log("ticket " .. e.ticket .. " from a valuable customer sounds angry: " .. e.subject)
  end,
}
rule {
  name = "unanswered question",
  on = "ticket.overdue",
  act = function(c, e)
    tag(c, "waiting-on-us")
    log("ticket " .. e.ticket .. " has waited " .. e.hours_waiting .. " hours: " .. e.subject)
  end,
}
-- Shipping questions are answered from faq/shipping.md without a rule: set
-- auto_reply = { shipping = "send", order_status = "draft" } in patron.conf.
-- Or from a rule, with any condition: the answer of faq/shipping.md (copy
-- examples/faq/ beside the store), threaded as a reply to the question.
rule {
  name = "answer shipping questions",
  on = "inquiry.received",
  where = function(c, e)
    return e.intent == "shipping" and (e.intent_confidence or 0) >= 0.7 and e.new_ticket
  end,
  act = function(c, e) reply{ ticket = e.ticket, faq = "shipping" } end,
}
