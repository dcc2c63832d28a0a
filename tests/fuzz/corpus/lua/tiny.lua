rule { name = "t", on_message = function(msg, ctx) if msg.body:find("%d+") then return { tags = { "n" }, continue = true } end end }
