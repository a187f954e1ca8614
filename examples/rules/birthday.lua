-- Birthday greeting: the attribute `birthday` (imported from the customer
-- list) falls on today's month and day.
rule {
  name = "birthday greeting",
  every = "1d",
  where = function(c)
    return c.birthday ~= nil and string.sub(c.birthday, 6, 10) == string.sub(today, 6, 10)
  end,
  act = function(c)
    send{ channel = "email", to = c, template = "birthday", vars = { gift = "free shipping" } }
  end,
  cooldown = "300d",
}
