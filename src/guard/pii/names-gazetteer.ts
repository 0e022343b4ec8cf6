/**
 * Common given names and surnames (German, English and frequent international ones), written for
 * Stellwerk from general knowledge of name frequencies. Names that are also everyday words
 * (Will, May, Mark, Ernst …) are listed separately: alone they prove nothing.
 */

export const FIRST_NAMES: ReadonlySet<string> = new Set(
  `Anna Maria Sophie Sophia Marie Emma Mia Hannah Hanna Lena Lea Leonie Laura Julia Lara Sarah Sara Lisa Katharina Johanna
  Clara Klara Charlotte Emilia Ella Amelie Luisa Louisa Lina Nele Jana Jasmin Vanessa Nina Sandra Sabine Petra Claudia Andrea
  Susanne Stefanie Stephanie Nicole Martina Monika Ursula Renate Helga Gisela Ingrid Karin Birgit Heike Anja Silke Kerstin
  Daniela Tanja Melanie Christina Christine Kristina Franziska Theresa Teresa Veronika Barbara Elisabeth Elke Gabriele Angelika
  Brigitte Margarete Ilse Erika Doris Jutta Bettina Alexandra Annika Carina Carolin Caroline Isabel Isabella Miriam Marlene
  Greta Frieda Ida Mathilda Paula Pia Romy Tina Ute Vera Yvonne Zoe Lotte Luise Magdalena Antonia Felicitas Jessica Jennifer
  Ashley Emily Olivia Isabelle Abigail Madison Elizabeth Mary Patricia Linda Susan Karen Nancy Betty Margaret Dorothy Lauren
  Rachel Rebecca Samantha Amanda Megan Victoria Natalie Chloe Grace Lucy Amy Kate Katie Sophie Ellie Evelyn Harper Avery Scarlett
  Maximilian Alexander Paul Leon Lukas Lucas Luca Felix Jonas Elias Noah Louis Ben Finn Fynn Jakob Jacob Tim Tom Moritz David
  Julian Philipp Niklas Nico Jan Simon Daniel Florian Tobias Sebastian Michael Thomas Andreas Stefan Stephan Christian Markus
  Martin Frank Peter Wolfgang Klaus Jürgen Juergen Dieter Uwe Günter Guenter Horst Helmut Manfred Gerhard Werner Bernd Rainer
  Hans Heinz Karl Walter Kurt Norbert Ralf Ralph Jens Jörg Joerg Holger Matthias Torsten Thorsten Dirk Sven Oliver Marco Mario
  Patrick Dennis Kevin Marcel Benjamin Jonathan Johannes Johann Georg Friedrich Wilhelm Heinrich Otto Fritz Konrad Anton
  Emil Oskar Oscar Henri Henry Theo Theodor Hannes Malte Lars Nils Till Timo Carsten Kai Kay Rolf Volker Hartmut Lothar
  James John Robert William Richard Joseph Charles Christopher Matthew Anthony Donald Steven Paul Andrew Joshua Kenneth
  George Edward Brian Ronald Timothy Jason Jeffrey Ryan Gary Eric Stephen Larry Justin Scott Brandon Raymond Gregory Samuel
  Patrick Jack Harry Oliver Charlie Thomas Alfie Archie Ethan Mason Logan Liam Aiden Hunter Connor Owen Dylan Nathan Adam
  Mohammed Muhammad Mehmet Ahmet Ali Mustafa Hasan Hassan Hüseyin Ibrahim Yusuf Omar Ahmed Fatma Ayse Ayşe Emine Elif Zeynep
  Fatima Leyla Aylin Emre Can Burak Murat Kemal Deniz Piotr Tomasz Krzysztof Pawel Paweł Anna Katarzyna Agnieszka Magdalena
  Ivan Dmitri Sergei Olga Natalia Natascha Tatjana Irina Svetlana Giuseppe Giovanni Francesco Alessandro Marco Luigi Chiara
  Giulia Francesca Jose José Juan Carlos Luis Antonio Manuel Pedro Miguel Javier Carmen Lucia Lucía Pablo Diego Alejandro
  Pierre Jean Jacques François Francois Nicolas Antoine Camille Chloé Manon Léa Wei Li Ming Hui Yan Jing Hiroshi Yuki Kenji
  Haruto Sakura Priya Raj Rahul Amit Anil Sunita Ravi Arjun Aisha Amina Kwame Chinedu Ngozi Olumide Sipho Thabo`.split(/\s+/),
);

/** Given names that are also common words: counted only with a surname or a cue next to them. */
export const AMBIGUOUS_FIRST_NAMES: ReadonlySet<string> = new Set(
  'Will May Mark Grace Hope Rose Jack Frank Bill Art Sunny April June Summer August Ernst Faith Joy Ray Dawn Glen Carol Holly Ivy Sky Can Deniz Li Ming Wei Yan Jing Raj Kai Kay Ali Paula Tina Ben Tom Tim Till Pia'.split(' '),
);

export const LAST_NAMES: ReadonlySet<string> = new Set(
  `Müller Mueller Schmidt Schneider Fischer Weber Meyer Meier Mayer Maier Wagner Becker Schulz Hoffmann Schäfer Schaefer Koch
  Bauer Richter Klein Wolf Schröder Schroeder Neumann Schwarz Zimmermann Braun Krüger Krueger Hofmann Hartmann Lange Schmitt
  Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Koehler Herrmann König Koenig Walter Mayer Huber Kaiser
  Fuchs Peters Lang Scholz Möller Moeller Weiß Weiss Jung Hahn Schubert Vogel Friedrich Keller Günther Guenther Frank Berger
  Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Boehm Winter Kraus Martin Schumacher Krämer
  Kraemer Vogt Stein Jäger Jaeger Otto Sommer Groß Gross Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler
  Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Smith Johnson Williams Brown Jones
  Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Taylor Moore Jackson Lee Perez Thompson
  White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
  Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Evans Turner Phillips Parker Edwards Collins Stewart Morris Murphy
  Cook Rogers Morgan Cooper Peterson Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray James
  Hughes Price Sanders Myers Long Ross Foster Walsh Byrne Ryan O'Brien O'Connor Yilmaz Yılmaz Kaya Demir Şahin Sahin Çelik
  Celik Yildiz Öztürk Ozturk Aydin Arslan Dogan Doğan Kılıç Kilic Nowak Kowalski Wiśniewski Wisniewski Kowalczyk Kaminski
  Lewandowski Zielinski Szymanski Wozniak Ivanov Petrov Smirnov Popov Kuznetsov Rossi Russo Ferrari Esposito Bianchi Romano
  Colombo Ricci Marino Greco Bruno Gallo Conti Costa Fernandez Gomez Diaz Moreno Alvarez Romero Navarro Silva Santos Pereira
  Oliveira Ferreira Rodrigues Martins Dubois Durand Leroy Moreau Laurent Lefebvre Bernard Petit Wang Zhang Liu Chen Yang Huang
  Zhao Wu Zhou Xu Sun Kim Park Choi Tanaka Suzuki Sato Takahashi Watanabe Patel Sharma Singh Kumar Gupta Khan Hussain Ahmed
  Okafor Mensah Nkosi Dlamini Jansen Janssen Visser Bakker Jensen Nielsen Hansen Pedersen Andersen Larsen Johansson Karlsson
  Nilsson Eriksson Novak Horvat Kovač Kovac Nagy Tóth Toth Szabó Szabo Papadopoulos`.split(/\s+/),
);
