from django.db import migrations

# The description is the zero-shot prototype: its embedding is what items are compared with, so it lists
# the words headlines of that category actually use.
DEFAULT_CATEGORIES = {
    "Technology": "Technology: software, hardware, the internet, smartphones, apps, computers, artificial "
    "intelligence, social media, cyber security, gadgets, video games, and tech companies like Apple, Google, "
    "Microsoft, Amazon and Facebook.",
    "Business": "Business: companies, markets, stocks, earnings, the economy, banks, central banks, interest "
    "rates, trade, mergers and acquisitions, oil prices, currencies, jobs and inflation.",
    "Politics": "Politics: governments, elections, presidents, parliaments, congress, political parties, laws, "
    "policy, campaigns, votes, diplomacy and political scandals.",
    "Entertainment": "Entertainment: movies, television, music, celebrities, actors, singers, film releases, "
    "box office, award shows, concerts, fashion and celebrity gossip.",
    "Science": "Science: research, scientists, discoveries, space, astronomy, physics, biology, climate, "
    "evolution, fossils, the environment and nature.",
    "Health": "Health: medicine, diseases, outbreaks, vaccines, hospitals, doctors, public health, drugs and "
    "clinical trials, nutrition, fitness, mental health and medical research.",
    "Sports": "Sports: football, soccer, basketball, baseball, tennis, the Olympics, athletes, teams, matches, "
    "leagues, tournaments, scores and transfers.",
    "World": "World: international news, wars, conflicts, disasters, refugees, protests, terrorism and events "
    "in countries around the globe.",
}


def categories_create(apps, schema_editor):
    Category = apps.get_model("trends", "Category")
    for name, description in DEFAULT_CATEGORIES.items():
        Category.objects.get_or_create(name=name, defaults={"description": description})


def categories_delete(apps, schema_editor):
    apps.get_model("trends", "Category").objects.filter(name__in=DEFAULT_CATEGORIES).delete()


class Migration(migrations.Migration):
    dependencies = [("trends", "0001_initial")]

    operations = [migrations.RunPython(categories_create, categories_delete)]
